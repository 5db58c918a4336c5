package dev.robots.http;

import dev.robots.config.Config;
import dev.robots.observability.Rejection;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Limits that keep an instance answering under overload and from browsers it does not know, for every request
 * whatever its method or path: non-canonical targets refused ({@link Targets}), a cap on requests in progress (past
 * it, a fast 503 instead of a queue that grows until memory runs out; the probes are exempt, so that a busy instance
 * is not taken for a dead one), a deadline per request from its first byte (a body still arriving then gets 408 and
 * its connection closes, so a slow sender holds a slot for {@code REQUEST_TIMEOUT_MS} at most), and CORS for the
 * origins in {@code CORS_ORIGINS} only.
 */
public final class Guards {
    private static final Set<String> PROBES = Set.of("/healthz", "/readyz");

    private final Config config;
    private final AtomicInteger inProgress;

    /** {@code inProgress} is shared by all the event loops' servers of one instance. */
    public Guards(Config config, AtomicInteger inProgress) {
        this.config = config;
        this.inProgress = inProgress;
    }

    /** Mount after the metrics and the access log, so that refusals are measured and logged, and before any route. */
    public void mount(Router router) {
        router.route().order(-1).handler(Targets::check);
        router.route().order(-1).handler(Framing::answerBrokenBodies);
        router.route().order(-1).handler(this::admit);
        router.route().order(-1).handler(this::deadline);
        router.route().order(-1).handler(Framing::closeAfterUnreadBody);
        if (!config.corsOrigins().isEmpty()) {
            router.route().order(-1).handler(CorsHandler.create()
                    .addOrigins(config.corsOrigins())
                    .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PATCH, HttpMethod.DELETE))
                    .allowedHeaders(Set.of("Authorization", "Content-Type"))
                    .exposedHeaders(Set.of("Location"))
                    .maxAgeSeconds(600));
        }
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
        long timer = ctx.vertx().setTimer(config.requestTimeout().toMillis(), fired -> expire(ctx));
        ctx.addEndHandler(ended -> ctx.vertx().cancelTimer(timer));
        ctx.next();
    }

    private void expire(RoutingContext ctx) {
        if (ctx.response().ended()) {
            return;
        }
        if (Problems.bodyPending(ctx.request())) {
            // The request itself has not all arrived: the client is slow, not us. Problems.send closes the connection.
            Problems.send(ctx, new Problem(408, "The request did not arrive within %d ms; send it at once."
                    .formatted(config.requestTimeout().toMillis())));
            return;
        }
        // Almost always waiting for the database.
        Rejection.TIMEOUT.mark(ctx);
        Problems.send(ctx, new Problem(503, "The request took too long; try again shortly.",
                Map.of("Retry-After", Problems.RETRY_AFTER_SECONDS)));
    }
}
