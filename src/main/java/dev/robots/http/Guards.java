package dev.robots.http;

import dev.robots.config.Config;
import dev.robots.db.WriteGate;
import dev.robots.observability.Rejection;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * Limits that keep an instance answering under overload and from browsers it does not know, for every request
 * whatever its method or path: non-canonical targets refused ({@link Targets}), a cap on requests in progress (past
 * it, a fast 503 instead of a queue that grows until memory runs out; the probes are exempt, so that a busy instance
 * is not taken for a dead one), a deadline per request from its first byte (a body still arriving then gets 408 and
 * its connection closes, so a slow sender holds a slot for {@code REQUEST_TIMEOUT_MS} at most), and CORS for the
 * origins in {@code CORS_ORIGINS} only.
 */
public final class Guards {
    private static final Logger LOG = Logger.getLogger(Guards.class.getName());
    private static final Set<String> PROBES = Set.of("/healthz", "/readyz");
    private static final Set<HttpMethod> READS = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS);
    private static final String WRITE_GATE = "robots.writeGate";
    /**
     * The request headers a page of an allowed origin may send beyond the CORS-safelisted ones: the token, the JSON
     * type, and what the API reads for conditional and retried requests. Only Authorization and Content-Type were
     * listed, so a browser's preflight refused a PATCH with If-Match, a POST with Idempotency-Key and a GET with
     * If-None-Match (none of them is safelisted), and such a page could not use what makes writes safe.
     */
    static final Set<String> CORS_REQUEST_HEADERS = Set.of("Authorization", "Content-Type", "If-Match",
            "If-None-Match", "Idempotency-Key", "X-Request-Id");
    /**
     * The response headers such a page may read beyond the safelisted ones. Location alone was exposed: the page could
     * not read the ETag that If-Match needs, nor Idempotent-Replayed, Retry-After or the request id.
     */
    static final Set<String> CORS_RESPONSE_HEADERS = Set.of("Location", "ETag", "Idempotent-Replayed", "Retry-After",
            "X-Request-Id", "WWW-Authenticate", "Allow");

    private final Config config;
    private final AtomicInteger inProgress;

    /** {@code inProgress} is shared by all the event loops' servers of one instance. */
    public Guards(Config config, AtomicInteger inProgress) {
        this.config = config;
        this.inProgress = inProgress;
    }

    /** Mount after the metrics and the access log, so that refusals are measured and logged, and before any route. */
    public void mount(Router router) {
        if (!config.corsOrigins().isEmpty()) {
            // First of all, so that the refusals of the guards below vary on Origin too.
            router.route().order(-1).handler(ctx -> {
                ctx.addHeadersEndHandler(v -> varyOnOrigin(ctx.response().headers()));
                ctx.next();
            });
        }
        router.route().order(-1).handler(Targets::check);
        router.route().order(-1).handler(Framing::answerBrokenBodies);
        router.route().order(-1).handler(this::admit);
        router.route().order(-1).handler(this::deadline);
        router.route().order(-1).handler(Framing::closeAfterUnreadBody);
        if (!config.corsOrigins().isEmpty()) {
            CorsHandler cors = CorsHandler.create()
                    .addOrigins(config.corsOrigins())
                    .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PATCH, HttpMethod.DELETE))
                    .allowedHeaders(CORS_REQUEST_HEADERS)
                    .exposedHeaders(CORS_RESPONSE_HEADERS)
                    .maxAgeSeconds(600);
            router.route().order(-1).handler(ctx -> {
                if (sameOrigin(ctx.request())) {
                    ctx.next();
                } else {
                    cors.handle(ctx);
                }
            });
        }
    }

    /**
     * Whether the request comes from a page of this service itself: its {@code Origin} names the host and port the
     * request was sent to ({@code Host}, or an absolute-form target's authority, both checked by {@link Targets}).
     * Browsers send {@code Origin} with a page's own POST, PATCH and DELETE, so the writes of {@code /docs}' "try it
     * out" got the 403 meant for other origins. The scheme is not compared: behind Cloud Run's front end a request
     * arrives over HTTP from a page served over HTTPS. Passing a request on here grants nothing a listed origin gets:
     * it carries no {@code Access-Control-Allow-Origin}, so a browser that took it for cross-origin keeps the answer
     * from its page, and a preflight (never sent for a page's own origin) gets no CORS answer.
     */
    static boolean sameOrigin(HttpServerRequest request) {
        String origin = request.getHeader(HttpHeaders.ORIGIN);
        HostAndPort authority = request.authority();
        int scheme = origin == null ? -1 : origin.indexOf("://");
        if (scheme < 0 || authority == null) {
            return false;
        }
        String host = origin.substring(scheme + 3);
        int port = -1;
        int colon = host.lastIndexOf(':');
        if (colon > host.lastIndexOf(']')) {
            String digits = host.substring(colon + 1);
            if (digits.isEmpty() || digits.length() > 5 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return false;
            }
            port = Integer.parseInt(digits);
            host = host.substring(0, colon);
        }
        // A port left out is the scheme's default: browsers drop it from Origin, while a front end may spell it in
        // Host (robots.example:443), and that page's writes got the 403 meant for other origins.
        int defaultPort = switch (origin.substring(0, scheme).toLowerCase(java.util.Locale.ROOT)) {
            case "https" -> 443;
            case "http" -> 80;
            default -> -2; // no port is this scheme's default
        };
        boolean samePort = port == authority.port() || (port == -1 && authority.port() == defaultPort)
                || (authority.port() == -1 && port == defaultPort);
        return samePort && unbracketed(host).equalsIgnoreCase(unbracketed(authority.host()));
    }

    private static String unbracketed(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /**
     * With CORS on, every answer depends on the request's Origin (Access-Control-Allow-Origin or none, a 403 for
     * another origin), so it says {@code Vary: Origin}, or a shared cache could hand one origin's answer to another.
     * Vert.x's CorsHandler adds it only when several origins are listed. Appended to the Vary values already there,
     * once; {@code Vary: *} already covers it.
     */
    static void varyOnOrigin(MultiMap headers) {
        List<String> vary = headers.getAll(HttpHeaders.VARY);
        for (String line : vary) {
            for (String item : line.split(",")) {
                String name = item.strip();
                if (name.equals("*") || name.equalsIgnoreCase("Origin")) {
                    return;
                }
            }
        }
        List<String> values = new ArrayList<>(vary.stream().filter(line -> !line.isBlank()).toList());
        values.add("Origin");
        headers.set(HttpHeaders.VARY, String.join(", ", values));
    }

    private void admit(RoutingContext ctx) {
        if (isProbe(ctx)) {
            ctx.next();
            return;
        }
        if (inProgress.incrementAndGet() > config.maxConcurrentRequests()) {
            inProgress.decrementAndGet();
            Rejection.OVERLOAD.mark(ctx);
            Problems.send(ctx, new Problem(503, "Too many requests are in progress; try again shortly.",
                    Map.of("Retry-After", "1")));
            return;
        }
        ctx.addEndHandler(ended -> inProgress.decrementAndGet());
        ctx.next();
    }

    /** The target is canonical by now ({@link Targets} ran first), so the path is what the router matches. */
    private static boolean isProbe(RoutingContext ctx) {
        HttpMethod method = ctx.request().method();
        return (method == HttpMethod.GET || method == HttpMethod.HEAD) && PROBES.contains(ctx.request().path());
    }

    /** The request's deadline. */
    private void deadline(RoutingContext ctx) {
        long timeoutMs = config.requestTimeout().toMillis();
        if (!READS.contains(ctx.request().method())) {
            ctx.put(WRITE_GATE, WriteGate.within(timeoutMs));
        }
        long timer = ctx.vertx().setTimer(timeoutMs, fired -> expire(ctx));
        ctx.addEndHandler(ended -> ctx.vertx().cancelTimer(timer));
        ctx.next();
    }

    /**
     * The write gate of a request: its one write transaction goes through it
     * ({@link dev.robots.db.Dialect#inTransaction(io.vertx.sqlclient.Pool, WriteGate, java.util.function.Function)}),
     * so that the deadline's answer never says "try again" for a write that may still commit.
     */
    public static WriteGate writeGate(RoutingContext ctx) {
        WriteGate gate = ctx.get(WRITE_GATE);
        return gate != null ? gate : WriteGate.unbounded();
    }

    private void expire(RoutingContext ctx) {
        if (ctx.response().ended()) {
            return;
        }
        WriteGate gate = ctx.get(WRITE_GATE);
        if (gate != null && !gate.expire()) {
            // The write's COMMIT is on its way: answering 503 now would say it did not happen when it may have. Its
            // own answer comes once the database tells; if that takes as long again, the answer says we do not know.
            ctx.vertx().setTimer(config.requestTimeout().toMillis(), fired -> outcomeUnknown(ctx));
            return;
        }
        if (Problems.bodyPending(ctx.request())) {
            // The request itself has not all arrived: the client is slow, not us. Problems.send closes the connection.
            Problems.send(ctx, new Problem(408, "The request did not arrive within %d ms; send it at once."
                    .formatted(config.requestTimeout().toMillis())));
            return;
        }
        // Almost always waiting for the database. A write has not committed and now never will (its gate is closed).
        Rejection.TIMEOUT.mark(ctx);
        Problems.send(ctx, new Problem(503, gate == null ? "The request took too long; try again shortly."
                : "The request took too long; nothing was changed. Try again shortly.",
                Map.of("Retry-After", Problems.RETRY_AFTER_SECONDS)));
    }

    private void outcomeUnknown(RoutingContext ctx) {
        if (ctx.response().ended()) {
            return;
        }
        LOG.warning(() -> "%s %s [request %s]: the database did not confirm the write's commit within %d ms after "
                .formatted(ctx.request().method(), ctx.request().path(), RequestIds.of(ctx),
                        config.requestTimeout().toMillis())
                + "the deadline; answered 504, the outcome is unknown");
        Problems.send(ctx, Problems.outcomeUnknown());
    }
}
