package dev.robots.http;

import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Probes for Cloud Run and Kubernetes. {@code /healthz}: the process answers. {@code /readyz}: it should get traffic,
 * meaning the database answers (the schema was migrated before the server started) and no shutdown has begun. Both
 * take GET and HEAD, and skip admission control ({@link Guards}): a busy instance is alive, and must not be killed for
 * being busy.
 *
 * <pre>
 * curl localhost:8080/healthz
 * curl localhost:8080/readyz
 * </pre>
 */
public final class Health {
    /** A probe times out after a second or so: answer before it does, whatever the database is doing. */
    private static final long CHECK_TIMEOUT_MS = 800;

    private final Pool pool;
    private final BooleanSupplier shuttingDown;
    /** The check in progress, shared by the probes that come meanwhile, so a flood of probes costs one query. */
    private Future<Void> check;

    /**
     * Readiness asks {@code pool}, the background pool, never the one that serves requests: a probe must not wait
     * behind requests for a connection, nor take one from them. It fails from the moment {@code shuttingDown} says so.
     * One instance per event loop, so {@link #check} needs no lock.
     */
    public Health(Pool pool, BooleanSupplier shuttingDown) {
        this.pool = pool;
        this.shuttingDown = shuttingDown;
    }

    public void mount(Router router) {
        router.route("/healthz").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(this::live);
        Problems.methodNotAllowed(router, "/healthz", "GET, HEAD");
        router.route("/readyz").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(this::ready);
        Problems.methodNotAllowed(router, "/readyz", "GET, HEAD");
    }

    private void live(RoutingContext ctx) {
        send(ctx, 200, "up");
    }

    private void ready(RoutingContext ctx) {
        if (shuttingDown.getAsBoolean()) {
            unavailable(ctx, "shutting down");
            return;
        }
        Future<Void> current = check;
        if (current == null) {
            // Through compose, so that a pool that throws (closed, say) fails the check instead of the request.
            Future<Void> started = Future.succeededFuture()
                    .compose(go -> pool.query("SELECT 1").execute())
                    .timeout(CHECK_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                    .mapEmpty();
            check = started;
            started.onComplete(done -> check = null); // at once, if it completed already
            current = started;
        }
        current.onSuccess(ok -> send(ctx, 200, "ready"))
                .onFailure(e -> unavailable(ctx, "database unavailable"));
    }

    private static void unavailable(RoutingContext ctx, String state) {
        ctx.response().putHeader("Retry-After", Problems.RETRY_AFTER_SECONDS);
        send(ctx, 503, state);
    }

    private static void send(RoutingContext ctx, int status, String state) {
        if (ctx.response().ended()) {
            return; // the request's deadline answered first
        }
        ctx.response().setStatusCode(status)
                .putHeader("Content-Type", "application/json; charset=utf-8")
                .putHeader("Cache-Control", "no-store")
                .end(new JsonObject().put("status", state).encode());
    }
}
