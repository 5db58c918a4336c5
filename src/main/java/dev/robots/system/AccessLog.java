package dev.robots.system;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * One log entry per request once its response is written, with Cloud Logging's {@code httpRequest} and, when the
 * request carries one, its trace ({@code X-Cloud-Trace-Context} or W3C {@code traceparent}) so that the entry joins
 * the request's trace in Cloud Trace.
 */
public final class AccessLog {
    private static final Logger LOG = Logger.getLogger("access");
    private static final Pattern CLOUD_TRACE = Pattern.compile("([0-9a-fA-F]{32})(?:/.*)?");
    private static final Pattern TRACEPARENT = Pattern.compile("[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}");

    private final Optional<String> project;
    private final boolean trustProxy;

    /**
     * {@code project}: the Google Cloud project that trace names belong to; {@code trustProxy}: the client address is
     * the first of {@code X-Forwarded-For} (set by a front end we trust, such as Cloud Run's), not the peer's.
     */
    public AccessLog(Optional<String> project, boolean trustProxy) {
        this.project = project;
        this.trustProxy = trustProxy;
    }

    public void mount(Router router) {
        router.route().order(-1).handler(this::log);
    }

    private void log(RoutingContext ctx) {
        long started = System.nanoTime();
        ctx.addBodyEndHandler(written -> {
            HttpServerRequest request = ctx.request();
            int status = ctx.response().getStatusCode();
            var httpRequest = new LinkedHashMap<String, Object>();
            httpRequest.put("requestMethod", request.method().name());
            httpRequest.put("requestUrl", request.uri());
            httpRequest.put("status", status);
            httpRequest.put("responseSize", Long.toString(ctx.response().bytesWritten()));
            httpRequest.put("latency", String.format(Locale.ROOT, "%.6fs", (System.nanoTime() - started) / 1e9));
            httpRequest.put("protocol", request.version().alpnName().toUpperCase(Locale.ROOT));
            Optional.ofNullable(request.getHeader("User-Agent")).ifPresent(ua -> httpRequest.put("userAgent", ua));
            remoteIp(request).ifPresent(ip -> httpRequest.put("remoteIp", ip));
            var fields = new LinkedHashMap<String, Object>();
            fields.put("httpRequest", httpRequest);
            trace(request).ifPresent(trace -> fields.put("logging.googleapis.com/trace", trace));
            LOG.log(Level.INFO, request.method().name() + " " + request.uri() + " " + status, Logging.fields(fields));
        });
        ctx.next();
    }

    private Optional<String> remoteIp(HttpServerRequest request) {
        String forwarded = trustProxy ? request.getHeader("X-Forwarded-For") : null;
        if (forwarded != null && !forwarded.isBlank()) {
            return Optional.of(forwarded.split(",", 2)[0].strip());
        }
        return Optional.ofNullable(request.remoteAddress()).map(address -> address.hostAddress());
    }

    /** {@code projects/PROJECT/traces/TRACE_ID}, when the project is known and the request names a trace. */
    Optional<String> trace(HttpServerRequest request) {
        return project.flatMap(p -> traceId(request.getHeader("X-Cloud-Trace-Context"), CLOUD_TRACE)
                .or(() -> traceId(request.getHeader("traceparent"), TRACEPARENT))
                .map(id -> "projects/" + p + "/traces/" + id));
    }

    private static Optional<String> traceId(String header, Pattern pattern) {
        if (header == null) {
            return Optional.empty();
        }
        var matcher = pattern.matcher(header.strip());
        return matcher.matches() ? Optional.of(matcher.group(1).toLowerCase(Locale.ROOT)) : Optional.empty();
    }
}
