package dev.robots.http;

import dev.robots.config.Config;
import dev.robots.observability.Rejection;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.ext.web.handler.TimeoutHandler;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Limits that keep an instance answering under overload and from browsers it does not know: a cap on requests in
 * progress (past it, a fast 503 instead of a queue that grows until memory runs out), a deadline per API request,
 * and CORS for the origins in {@code CORS_ORIGINS} only.
 */
public final class Guards {
    private final Config config;
    private final AtomicInteger inProgress;

    /** {@code inProgress} is shared by all the event loops' servers of one instance. */
    public Guards(Config config, AtomicInteger inProgress) {
        this.config = config;
        this.inProgress = inProgress;
    }

    public void mount(Router router) {
        router.route().order(-1).handler(this::admit);
        if (!config.corsOrigins().isEmpty()) {
            router.route().order(-1).handler(CorsHandler.create()
                    .addOrigins(config.corsOrigins())
                    .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PATCH, HttpMethod.DELETE))
                    .allowedHeaders(Set.of("Authorization", "Content-Type"))
                    .exposedHeaders(Set.of("Location"))
                    .maxAgeSeconds(600));
        }
        // Without a path, like the others: a path would join the route label of the request metrics.
        Handler<RoutingContext> deadline = TimeoutHandler.create(config.requestTimeout().toMillis(), 503);
        router.route().order(-1).handler(ctx -> {
            if (ctx.request().path().startsWith("/v1/")) {
                deadline.handle(ctx);
            } else {
                ctx.next();
            }
        });
    }

    private void admit(RoutingContext ctx) {
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
}
