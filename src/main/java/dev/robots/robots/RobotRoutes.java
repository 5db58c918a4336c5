package dev.robots.robots;

import dev.robots.background.BackgroundTask;
import dev.robots.background.BackgroundTasks;
import dev.robots.config.Config;
import dev.robots.counting.ReferenceCounter;
import dev.robots.db.Dialect;
import dev.robots.http.Preconditions;
import dev.robots.http.Problem;
import dev.robots.http.Problems;
import dev.robots.idempotency.Idempotency;
import dev.robots.idempotency.Reply;
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
import java.util.Optional;
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
    private final Pool pool;
    private final Dialect dialect;
    private final Idempotency idempotency;

    /** {@code writers} guards the routes that change data. */
    public RobotRoutes(Pool pool, Dialect dialect, RobotCache cache, BackgroundTasks background,
            ReferenceCounter references, Handler<RoutingContext> writers) {
        this.robots = new RobotRepository(pool, dialect);
        this.cache = cache;
        this.background = background;
        this.references = references;
        this.writers = writers;
        this.pool = pool;
        this.dialect = dialect;
        this.idempotency = new Idempotency(pool, dialect);
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

        // The repair routes (repairs.RepairRoutes) are mounted before these, so that "repair" is not taken for an id.

        router.get("/v1/robots/:id").handler(this::getRobot);
        router.patch("/v1/robots/:id").handler(body).handler(this::renameRobot);
        router.delete("/v1/robots/:id").handler(this::deleteRobot);
        Problems.methodNotAllowed(router, "/v1/robots/:id", "GET, PATCH, DELETE");
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

    /** Under an Idempotency-Key, at most once per key and caller; the 201 carries the new robot's ETag. */
    private void createRobot(RoutingContext ctx) {
        String name = RobotRequests.name(ctx);
        idempotency.execute(ctx, conn -> robots.create(conn, name)
                        .map(robot -> Reply.of(201, robot.toJson().toBuffer(), "/v1/robots/" + robot.id(),
                                robot.etag())))
                .onSuccess(reply -> {
                    // After the commit: a 404 cached before the robot existed no longer holds.
                    cache.created(Long.parseLong(reply.location().substring("/v1/robots/".length())));
                    reply.send(ctx);
                })
                .onFailure(ctx::fail);
    }

    /** With If-Match, the ETag is compared under the row's lock, in the rename's transaction. */
    private void renameRobot(RoutingContext ctx) {
        long id = RobotRequests.id(ctx);
        String name = RobotRequests.name(ctx);
        Preconditions condition = Preconditions.of(ctx);
        Future<Optional<Robot>> renamed = condition == null
                ? robots.rename(id, name)
                : dialect.inTransaction(pool, conn -> robots.lock(conn, id).compose(current -> {
                    if (current.isPresent() && !condition.matches(current.get().etag())) {
                        return Future.failedFuture(Preconditions.failed(current.get().etag()));
                    }
                    return current.isEmpty() ? Future.succeededFuture(current) : robots.rename(conn, id, name);
                }));
        renamed.andThen(done -> cache.invalidate(id))
                .map(robot -> robot.orElseThrow(() -> missing(id)))
                .onSuccess(robot -> {
                    ctx.response().putHeader("ETag", robot.etag());
                    send(ctx, 200, robot.toJson());
                })
                .onFailure(ctx::fail);
    }

    /** With If-Match, the ETag is compared under the row's lock, in the delete's transaction. */
    private void deleteRobot(RoutingContext ctx) {
        long id = RobotRequests.id(ctx);
        Preconditions condition = Preconditions.of(ctx);
        Future<Boolean> deleted = condition == null
                ? robots.delete(id)
                : dialect.inTransaction(pool, conn -> robots.lock(conn, id).compose(current -> {
                    if (current.isPresent() && !condition.matches(current.get().etag())) {
                        return Future.failedFuture(Preconditions.failed(current.get().etag()));
                    }
                    return current.isEmpty() ? Future.succeededFuture(false) : robots.delete(conn, id);
                }));
        deleted.andThen(done -> cache.invalidate(id))
                .compose(found -> found ? Future.succeededFuture() : Future.failedFuture(missing(id)))
                .onSuccess(done -> ctx.response().setStatusCode(204).end())
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
