package dev.robots.observability;

import dev.robots.http.RequestIds;
import io.netty.util.NetUtil;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
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
    /** {@code TRACE_ID[/SPAN_ID][;o=OPTIONS]}: what follows the trace id is read only when it is well formed. */
    private static final Pattern CLOUD_TRACE = Pattern.compile("([0-9a-fA-F]{32})(?:/([^;]*))?(?:;(.*))?");
    private static final Pattern SPAN = Pattern.compile("[0-9]{1,20}");
    /** Query parameter names that carry credentials by convention (OAuth's access_token, API keys, signatures). */
    private static final Pattern SECRET_PARAMETER = Pattern.compile(
            "token|key|secret|pass|pwd|auth|session|signature|sig$|credential|code$|jwt|bearer");
    /** Version 00 is exactly this; a later version may carry more after it, behind a dash (W3C Trace Context). */
    private static final Pattern TRACEPARENT = Pattern.compile(
            "([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?");
    private static final String ZEROS = "0".repeat(32);

    private final Optional<String> project;
    private final boolean trustProxy;
    private final boolean structured;

    /**
     * {@code project}: the Google Cloud project that trace names belong to; {@code trustProxy}: the client address is
     * the last of {@code X-Forwarded-For} (appended by a front end we trust, such as Cloud Run's), not the peer's;
     * {@code format}: JSON entries carry Cloud Logging's {@code httpRequest}, text lines say the same in one line.
     */
    public AccessLog(Optional<String> project, boolean trustProxy, Logging.Format format) {
        this.project = project;
        this.trustProxy = trustProxy;
        this.structured = format == Logging.Format.JSON;
    }

    public void mount(Router router) {
        router.route().order(-1).handler(this::log);
    }

    // Runs for every request: a profile of the GET load found a third of all allocation here (a map per request,
    // String.format), so text lines build no fields and nothing is formatted twice.
    private void log(RoutingContext ctx) {
        long started = System.nanoTime();
        ctx.addBodyEndHandler(written -> entry(ctx.request(), true, started));
        ctx.next();
    }

    /**
     * The entry of an answer given without the router ({@code Framing.Unrouted}): a request the decoder refused, whose
     * method and target are unknown ({@code parsed} false: logged as {@code -}), or a target that is not a path.
     */
    public void unrouted(HttpServerRequest request, boolean parsed, long startedNanos) {
        entry(request, parsed, startedNanos);
    }

    private void entry(HttpServerRequest request, boolean parsed, long started) {
        var response = request.response();
        int status = response.getStatusCode();
        String latency = seconds(System.nanoTime() - started);
        String remoteIp = remoteIp(request);
        String method = parsed ? request.method().name() : "-";
        String uri = parsed ? redact(request.uri()) : "-";
        String requestId = response.headers().get(RequestIds.HEADER);
        String message = method + " " + uri + " " + status;
        if (!structured) {
            LOG.info(message + " " + response.bytesWritten() + "B " + latency + " "
                    + (remoteIp == null ? "-" : remoteIp)
                    + (requestId == null ? "" : " " + requestId));
            return;
        }
        var httpRequest = new LinkedHashMap<String, Object>();
        if (parsed) {
            httpRequest.put("requestMethod", method);
            httpRequest.put("requestUrl", uri);
        }
        httpRequest.put("status", status);
        httpRequest.put("responseSize", Long.toString(response.bytesWritten()));
        httpRequest.put("latency", latency);
        httpRequest.put("protocol", protocol(request.version()));
        String userAgent = parsed ? request.getHeader("User-Agent") : null;
        if (userAgent != null) {
            httpRequest.put("userAgent", userAgent);
        }
        if (remoteIp != null) {
            httpRequest.put("remoteIp", remoteIp);
        }
        var fields = new LinkedHashMap<String, Object>();
        fields.put("httpRequest", httpRequest);
        if (parsed) {
            trace(request).ifPresent(trace -> {
                fields.put("logging.googleapis.com/trace", trace.name());
                if (trace.spanId() != null) {
                    fields.put("logging.googleapis.com/spanId", trace.spanId());
                }
                fields.put("logging.googleapis.com/trace_sampled", trace.sampled());
            });
        }
        if (requestId != null) {
            fields.put("requestId", requestId);
        }
        LOG.log(Level.INFO, message, Logging.fields(fields));
    }

    /** Cloud Logging's duration form, e.g. {@code 0.000412s}. */
    static String seconds(long nanos) {
        long micros = nanos / 1000;
        String fraction = Long.toString(1_000_000 + micros % 1_000_000).substring(1);
        return micros / 1_000_000 + "." + fraction + "s";
    }

    private static String protocol(HttpVersion version) {
        return switch (version) {
            case HTTP_1_0 -> "HTTP/1.0";
            case HTTP_1_1 -> "HTTP/1.1";
            case HTTP_2 -> "HTTP/2";
        };
    }

    /**
     * The client's address. Behind a trusted proxy, the last entry of {@code X-Forwarded-For}: the one the proxy
     * appended itself, while every earlier entry is whatever the client chose to send; and only if it is an IP address.
     * Header lines of one name are one comma-separated list (RFC 9110 §5.3), so the last entry is in the last line:
     * a client that sends a line of its own before the proxy's must not have its address taken from it.
     */
    String remoteIp(HttpServerRequest request) {
        List<String> lines = trustProxy ? request.headers().getAll("X-Forwarded-For") : List.of();
        String forwarded = lines.isEmpty() ? null : lines.getLast();
        if (forwarded != null) {
            String last = forwarded.substring(forwarded.lastIndexOf(',') + 1).strip();
            if (NetUtil.isValidIpV4Address(last) || NetUtil.isValidIpV6Address(last)) {
                return last;
            }
        }
        // The connection's peer: the same address as request.remoteAddress(), without Vert.x Web's wrapper working
        // out the request's forwarded scheme, host and address first (parsed and allocated per request, 4 % of what a
        // robot read allocated; this service takes no Forwarded headers from clients).
        var address = request.connection().remoteAddress();
        return address == null ? null : address.hostAddress();
    }

    /**
     * {@code uri} with the values of query parameters that usually hold a secret replaced by {@code REDACTED}. The
     * parameters are split at {@code &} and at {@code ;}: this service reads {@code &} alone (RobotRequests), but the
     * client or a framework in front may have meant {@code ;} as a separator too (split at {@code &} only,
     * {@code ?limit=5;token=...} kept its token), and redacting one value too many costs nothing.
     */
    static String redact(String uri) {
        int query = uri.indexOf('?');
        if (query < 0) {
            return uri;
        }
        var redacted = new StringBuilder(uri.length()).append(uri, 0, query + 1);
        int start = query + 1;
        while (start <= uri.length()) {
            int end = start;
            while (end < uri.length() && uri.charAt(end) != '&' && uri.charAt(end) != ';') {
                end++;
            }
            String parameter = uri.substring(start, end);
            int equals = parameter.indexOf('=');
            String name = decoded(equals < 0 ? parameter : parameter.substring(0, equals)).toLowerCase(Locale.ROOT);
            if (equals >= 0 && SECRET_PARAMETER.matcher(name).find()) {
                redacted.append(parameter, 0, equals + 1).append("REDACTED");
            } else {
                redacted.append(parameter);
            }
            if (end < uri.length()) {
                redacted.append(uri.charAt(end));
            }
            start = end + 1;
        }
        return redacted.toString();
    }

    /**
     * A parameter name as the query parser reads it ({@code to%6Ben} is {@code token}), so that an escape does not hide
     * a secret's name. A malformed escape is kept as sent: it names nothing the parser would take for a secret.
     */
    private static String decoded(String name) {
        if (name.indexOf('%') < 0 && name.indexOf('+') < 0) {
            return name;
        }
        try {
            return URLDecoder.decode(name, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException malformed) {
            return name;
        }
    }

    /**
     * The trace a request belongs to, as Cloud Logging links an entry to Cloud Trace.
     *
     * @param name    {@code projects/PROJECT/traces/TRACE_ID}
     * @param spanId  the caller's span, 16 lowercase hex digits, or null when the header names none
     * @param sampled whether the caller records the trace (Cloud Trace shows the entry under it only then)
     */
    record Trace(String name, String spanId, boolean sampled) {
    }

    /**
     * The request's trace, when the project is known and the request names one: {@code X-Cloud-Trace-Context}
     * ({@code TRACE_ID/SPAN_ID;o=1}, the span in decimal), else W3C {@code traceparent}.
     */
    Optional<Trace> trace(HttpServerRequest request) {
        return project.flatMap(p -> cloudTrace(request.getHeader("X-Cloud-Trace-Context"))
                .or(() -> traceparent(request.getHeader("traceparent")))
                .map(t -> new Trace("projects/" + p + "/traces/" + t.name(), t.spanId(), t.sampled())));
    }

    /**
     * The trace id of {@code TRACE_ID[/SPAN_ID][;o=OPTIONS]}; the span and the sampling flag when they are well formed
     * (a span is a decimal unsigned 64-bit number, 0 is none), the trace alone when only they are not.
     */
    private static Optional<Trace> cloudTrace(String header) {
        if (header == null) {
            return Optional.empty();
        }
        var matcher = CLOUD_TRACE.matcher(header.replace(" ", ""));
        if (!matcher.matches() || ZEROS.equals(matcher.group(1))) {
            return Optional.empty();
        }
        String spanId = null;
        if (matcher.group(2) != null && SPAN.matcher(matcher.group(2)).matches()) {
            try {
                long span = Long.parseUnsignedLong(matcher.group(2));
                spanId = span == 0 ? null : HexFormat.of().toHexDigits(span);
            } catch (NumberFormatException tooLarge) {
                spanId = null; // more than 64 bits: names no span; the trace still holds
            }
        }
        boolean sampled = "o=1".equals(matcher.group(3));
        return Optional.of(new Trace(matcher.group(1).toLowerCase(Locale.ROOT), spanId, sampled));
    }

    /**
     * {@code VERSION-TRACE_ID-PARENT_ID-FLAGS}. W3C Trace Context: a trace id or parent id of zeros, or version
     * {@code ff}, makes the header invalid, and an invalid header is ignored whole; a version after 00 is read by its
     * first 55 characters, whatever follows them behind a dash.
     */
    private static Optional<Trace> traceparent(String header) {
        if (header == null) {
            return Optional.empty();
        }
        var matcher = TRACEPARENT.matcher(header.strip());
        if (!matcher.matches() || matcher.group(1).equals("ff") || ZEROS.equals(matcher.group(2))
                || matcher.group(3).equals("0000000000000000")
                || (matcher.group(5) != null && matcher.group(1).equals("00"))) {
            return Optional.empty();
        }
        boolean sampled = (HexFormat.fromHexDigits(matcher.group(4)) & 1) == 1;
        return Optional.of(new Trace(matcher.group(2), matcher.group(3), sampled));
    }
}
