package dev.robots.robots;

import dev.robots.background.BackgroundTask;
import dev.robots.background.BackgroundTasks;
import dev.robots.config.Config;
import dev.robots.counting.ReferenceCounter;
import dev.robots.db.Dialect;
import dev.robots.http.Problem;
import dev.robots.http.Problems;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.Set;

/**
 * The robots API, version 1.
 *
 * <pre>
 * curl -X POST localhost:8080/v1/robots -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
 *   -d '{"name": "R2-D2"}'
 * curl localhost:8080/v1/robots/1
 * curl 'localhost:8080/v1/robots?limit=50&amp;after=0'
 * curl -X PATCH localhost:8080/v1/robots/1 -H 'Content-Type: application/json' -d '{"name": "C-3PO"}'
 * curl -X DELETE localhost:8080/v1/robots/1
 * curl -X POST localhost:8080/v1/robots/1/repair
 * curl -X POST localhost:8080/v1/robots/repair -d robot_id=1
 * </pre>
 */
public final class RobotRoutes {
    private static final String JSON = "application/json; charset=utf-8";
    private static final Set<HttpMethod> WRITES = Set.of(HttpMethod.POST, HttpMethod.PATCH, HttpMethod.DELETE,
            HttpMethod.PUT);

    private final RobotRepository robots;
    private final RobotCache cache;
    private final BackgroundTasks background;
    private final ReferenceCounter references;
    private final Handler<RoutingContext> writers;

    /** {@code writers} guards the routes that change data. */
    public RobotRoutes(Pool pool, Dialect dialect, RobotCache cache, BackgroundTasks background,
            ReferenceCounter references, Handler<RoutingContext> writers) {
        this.robots = new RobotRepository(pool, dialect);
        this.cache = cache;
        this.background = background;
        this.references = references;
        this.writers = writers;
    }

    public void mount(Router router) {
        BodyHandler body = BodyHandler.create(false).setBodyLimit(Config.BODY_LIMIT_BYTES);
        router.get("/v1/robots").handler(this::listRobots);
        // Writes are checked first, before any body is read, in a route without a path: a path would join the
        // route label of the request metrics ("/v1/robots>/v1/robots").
        router.route().handler(ctx -> {
            if (WRITES.contains(ctx.request().method()) && ctx.request().path().startsWith("/v1/robots")) {
                writers.handle(ctx);
            } else {
                ctx.next();
            }
        });
        router.post("/v1/robots").handler(body).handler(this::createRobot);
        Problems.methodNotAllowed(router, "/v1/robots", "GET, POST");

        // The seed's own repair route, form field robot_id; before /:id so that "repair" is not taken for an id.
        router.post("/v1/robots/repair").handler(body).handler(this::repairFromForm);
        Problems.methodNotAllowed(router, "/v1/robots/repair", "POST");

        router.get("/v1/robots/:id").handler(this::getRobot);
        router.patch("/v1/robots/:id").handler(body).handler(this::renameRobot);
        router.delete("/v1/robots/:id").handler(this::deleteRobot);
        Problems.methodNotAllowed(router, "/v1/robots/:id", "GET, PATCH, DELETE");

        router.post("/v1/robots/:id/repair").handler(this::repairRobot);
        Problems.methodNotAllowed(router, "/v1/robots/:id/repair", "POST");
    }

    private void getRobot(RoutingContext ctx) {
        long id = RobotRequests.id(ctx);
        byte[] cached = cache.get(id);
        if (cached != null) {
            found(ctx, id, cached);
            return;
        }
        long stamp = cache.stamp();
        robots.find(id)
                .onSuccess(found -> {
                    if (found.isEmpty()) {
                        cache.missing(id);
                        ctx.fail(missing(id));
                        return;
                    }
                    Robot robot = found.get();
                    byte[] body = new JsonObject()
                            .put("message", "Robot is " + robot.name() + ".")
                            .mergeIn(robot.toJson())
                            .toBuffer().getBytes();
                    cache.found(id, robot.version(), body, stamp);
                    found(ctx, id, body);
                })
                .onFailure(ctx::fail);
    }

    /** The 200 of a GET; the reference is counted only once it is written, and off the response's path. */
    private void found(RoutingContext ctx, long id, byte[] body) {
        if (ctx.response().ended()) {
            return; // REQUEST_TIMEOUT_MS passed and a 503 went out instead: not a successful retrieval
        }
        background.after(ctx, new CountReference(references, id));
        send(ctx, 200, Buffer.buffer(body));
    }

    private void listRobots(RoutingContext ctx) {
        int limit = RobotRequests.limit(ctx);
        long after = RobotRequests.after(ctx);
        // One row more than the page tells whether there is a next page.
        robots.page(after, limit + 1)
                .onSuccess(rows -> {
                    List<Robot> page = rows.subList(0, Math.min(limit, rows.size()));
                    String next = rows.size() > limit
                            ? "/v1/robots?limit=%d&after=%d".formatted(limit, page.getLast().id())
                            : null;
                    var robotsJson = new JsonArray();
                    page.forEach(robot -> robotsJson.add(robot.toJson()));
                    send(ctx, 200, new JsonObject().put("robots", robotsJson).put("next", next));
                })
                .onFailure(ctx::fail);
    }

    private void createRobot(RoutingContext ctx) {
        String name = RobotRequests.name(ctx);
        robots.create(name)
                .onSuccess(robot -> {
                    cache.created(robot.id());
                    ctx.response().putHeader("Location", "/v1/robots/" + robot.id());
                    send(ctx, 201, robot.toJson());
                })
                .onFailure(ctx::fail);
    }

    private void renameRobot(RoutingContext ctx) {
        long id = RobotRequests.id(ctx);
        String name = RobotRequests.name(ctx);
        robots.rename(id, name)
                .andThen(renamed -> cache.invalidate(id))
                .map(robot -> robot.orElseThrow(() -> missing(id)))
                .onSuccess(robot -> send(ctx, 200, robot.toJson()))
                .onFailure(ctx::fail);
    }

    private void deleteRobot(RoutingContext ctx) {
        long id = RobotRequests.id(ctx);
        robots.delete(id)
                .andThen(deleted -> cache.invalidate(id))
                .compose(deleted -> deleted ? Future.succeededFuture() : Future.failedFuture(missing(id)))
                .onSuccess(deleted -> ctx.response().setStatusCode(204).end())
                .onFailure(ctx::fail);
    }

    private void repairRobot(RoutingContext ctx) {
        startRepair(ctx, RobotRequests.id(ctx));
    }

    private void repairFromForm(RoutingContext ctx) {
        startRepair(ctx, RobotRequests.formRobotId(ctx));
    }

    /** Answers 202 at once; the repair itself runs after the response, as in the seed. */
    private void startRepair(RoutingContext ctx, long id) {
        robots.find(id)
                .map(robot -> robot.orElseThrow(() -> missing(id)))
                .onSuccess(robot -> {
                    background.after(ctx, BackgroundTask.of("repair robot " + id,
                            () -> robots.recordRepair(id).andThen(repaired -> cache.invalidate(id))));
                    send(ctx, 202, new JsonObject().put("message", "Start repairing %s.".formatted(robot.name())));
                })
                .onFailure(ctx::fail);
    }

    /** The background task of every 200 GET; its name is made only if a log needs it. */
    private record CountReference(ReferenceCounter references, long id) implements BackgroundTask {
        @Override
        public String name() {
            return "count reference to robot " + id;
        }

        @Override
        public Future<?> run() {
            references.record(id);
            return Future.succeededFuture();
        }
    }

    private static Problem missing(long id) {
        return Problem.notFound("There is no robot with id %d.".formatted(id));
    }

    private static void send(RoutingContext ctx, int status, JsonObject body) {
        send(ctx, status, body.toBuffer());
    }

    private static void send(RoutingContext ctx, int status, Buffer body) {
        if (ctx.response().ended()) {
            return; // REQUEST_TIMEOUT_MS passed and a 503 went out instead
        }
        ctx.response().setStatusCode(status).putHeader("Content-Type", JSON).end(body);
    }
}
