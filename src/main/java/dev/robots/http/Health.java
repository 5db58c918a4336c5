package dev.robots.http;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Probes for Cloud Run and Kubernetes. {@code /healthz}: the process answers. {@code /readyz}: it should get traffic,
 * meaning the database answers (the schema was migrated before the server started) and no shutdown has begun.
 *
 * <pre>
 * curl localhost:8080/healthz
 * curl localhost:8080/readyz
 * </pre>
 */
public final class Health {
    private final Pool pool;
    private final BooleanSupplier shuttingDown;

    /** Readiness asks {@code pool}, and fails from the moment {@code shuttingDown} says so. */
    public Health(Pool pool, BooleanSupplier shuttingDown) {
        this.pool = pool;
        this.shuttingDown = shuttingDown;
    }

    public void mount(Router router) {
        router.get("/healthz").handler(this::live);
        router.get("/readyz").handler(this::ready);
    }

    private void live(RoutingContext ctx) {
        send(ctx, 200, "up");
    }

    private void ready(RoutingContext ctx) {
        if (shuttingDown.getAsBoolean()) {
            send(ctx, 503, "shutting down");
            return;
        }
        // A probe times out after a second or so: answer before it does, whatever the database is doing.
        pool.query("SELECT 1").execute()
                .timeout(800, TimeUnit.MILLISECONDS)
                .onSuccess(rows -> send(ctx, 200, "ready"))
                .onFailure(e -> send(ctx, 503, "database unavailable"));
    }

    private static void send(RoutingContext ctx, int status, String state) {
        ctx.response().setStatusCode(status)
                .putHeader("Content-Type", "application/json; charset=utf-8")
                .putHeader("Cache-Control", "no-store")
                .end(new JsonObject().put("status", state).encode());
    }
}
