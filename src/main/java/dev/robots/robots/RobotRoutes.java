package dev.robots.robots;

import dev.robots.background.BackgroundTask;
import dev.robots.background.BackgroundTasks;
import dev.robots.config.Config;
import dev.robots.counting.ReferenceCounter;
import dev.robots.http.Guards;
import dev.robots.http.Preconditions;
import dev.robots.http.Problem;
import dev.robots.http.Problems;
import dev.robots.idempotency.Idempotency;
import dev.robots.idempotency.Reply;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;

/**
 * The robots API, version 1.
 *
 * <pre>
 * curl -X POST localhost:8080/v1/robots -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
 *   -d '{"name": "R2-D2"}'
 * curl localhost:8080/v1/robots/1
 * curl 'localhost:8080/v1/robots?limit=50&amp;after=0'
 * curl -X PATCH localhost:8080/v1/robots/1 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
 *   -d '{"name": "C-3PO"}'
 * curl -X DELETE localhost:8080/v1/robots/1 -H "Authorization: Bearer $TOKEN"
 * </pre>
 */
public final class RobotRoutes {
    private static final String JSON = "application/json; charset=utf-8";
    /** Spelled as the other answers (201, 412, replays) spell it. */
    private static final String ETAG = "ETag";
    /** The robot's path template, and the prefix of the read's route ({@link #mountRead}). */
    static final String ROBOT_TEMPLATE = "/v1/robots/:id";
    private static final String ROBOT_PREFIX = "/v1/robots/";

    private final RobotService robots;
    private final Idempotency idempotency;
    private final BackgroundTasks background;
    private final ReferenceCounter references;
    private final Handler<RoutingContext> writers;

    /** {@code writers} guards the routes that change data; {@code idempotency} makes a retried create harmless. */
    public RobotRoutes(RobotService robots, Idempotency idempotency, BackgroundTasks background,
            ReferenceCounter references, Handler<RoutingContext> writers) {
        this.robots = robots;
        this.idempotency = idempotency;
        this.background = background;
        this.references = references;
        this.writers = writers;
    }

    /**
     * The robot read alone, to be mounted before the routes of other features that have a path parameter. Vert.x Web
     * matches a route with a parameter as a regular expression: a {@code Matcher}, its groups and a map of parameters
     * per request, and one per such route tried (behind the repairs' six, every read made seven: 17 % of the bytes a
     * read allocated under the 1M-robot Zipf bench, bench/README.md, session 7). This route is a prefix, which Vert.x
     * compares as a string, and the id is read from the path in place: only {@code /v1/robots/} followed by an id
     * spelled as a number to the end of the path is answered here; anything else (a longer path such as
     * {@code /repair}, the seed's repair form, or a mistake) goes on to the routes mounted after, which answer it as
     * before. Only canonical paths reach a route ({@code http.Targets}). Named as the template it serves, for the
     * request metrics' route label.
     */
    public void mountRead(Router router) {
        router.route(ROBOT_PREFIX + "*").setName(ROBOT_TEMPLATE).method(HttpMethod.GET).method(HttpMethod.HEAD)
                .handler(ctx -> {
                    long id = RobotRequests.idAfter(ctx.request().path(), ROBOT_PREFIX.length());
                    if (id > 0) {
                        getRobot(ctx, id);
                    } else {
                        ctx.next();
                    }
                });
    }

    public void mount(Router router) {
        BodyHandler body = BodyHandler.create(false).setBodyLimit(Config.BODY_LIMIT_BYTES);
        // Each write route checks the token itself, first, before any body is read: the decision belongs to the
        // route that runs, never to a prefix of the path.
        router.route("/v1/robots").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(this::listRobots);
        router.post("/v1/robots").handler(writers).handler(body).handler(this::createRobot);
        Problems.methodNotAllowed(router, "/v1/robots", "GET, HEAD, POST");

        // The repair routes (repairs.RepairRoutes) are mounted before these, so that "repair" is not taken for an id;
        // reads of ids spelled as numbers were answered by mountRead's route, and this one answers the rest (a 400).
        router.route(ROBOT_TEMPLATE).method(HttpMethod.GET).method(HttpMethod.HEAD).handler(this::getRobot);
        router.patch("/v1/robots/:id").handler(writers).handler(body).handler(this::renameRobot);
        router.delete("/v1/robots/:id").handler(writers).handler(this::deleteRobot);
        Problems.methodNotAllowed(router, "/v1/robots/:id", "GET, HEAD, PATCH, DELETE");

    }

    private void getRobot(RoutingContext ctx) {
        getRobot(ctx, RobotRequests.id(ctx));
    }

    private void getRobot(RoutingContext ctx, long id) {
        // A malformed one is a 400 before any look-up.
        Preconditions ifMatch = Preconditions.ifMatch(ctx);
        Preconditions.NoneMatch ifNoneMatch = Preconditions.ifNoneMatch(ctx.request());
        var headers = ctx.request().headers();
        long seen = !headers.contains(HttpHeaders.IF_MATCH) && !headers.contains(HttpHeaders.IF_NONE_MATCH) ? -1
                : Math.max(RobotRequests.newestTagged(headers.getAll(HttpHeaders.IF_MATCH)),
                        RobotRequests.newestTagged(headers.getAll(HttpHeaders.IF_NONE_MATCH)));
        robots.answer(id, seen)
                .onSuccess(answer -> {
                    if (answer.isEmpty()) {
                        ctx.fail(missing(id)); // a 404 whatever the condition (RFC 9110 §13.2.1)
                    } else {
                        found(ctx, id, answer.get(), ifMatch, ifNoneMatch);
                    }
                })
                .onFailure(ctx::fail);
    }

    /**
     * The 200 of a GET, or its 304 when the client's copy is current ({@code If-None-Match}): either way the client
     * retrieved the robot, so the reference is counted, once the answer is written and off the response's path. An
     * {@code If-Match} that does not hold is evaluated first (RFC 9110 §13.2.2): a 412 with the current ETag, which
     * retrieved nothing and is not counted.
     */
    private void found(RoutingContext ctx, long id, RobotCache.Entry robot, Preconditions ifMatch,
            Preconditions.NoneMatch ifNoneMatch) {
        if (ctx.response().ended()) {
            return; // REQUEST_TIMEOUT_MS passed and a 503 went out instead: not a successful retrieval
        }
        String etag = Preconditions.robotEtag(robot.version());
        if (ifMatch != null && !ifMatch.matches(etag)) {
            ctx.fail(Preconditions.failed(etag));
            return;
        }
        background.after(ctx, new CountReference(references, id));
        ctx.response().putHeader(ETAG, etag);
        if (ifNoneMatch != null && ifNoneMatch.matches(etag)) {
            ctx.response().setStatusCode(304).end();
        } else {
            send(ctx, 200, robot.body(robot.count()));
        }
    }

    private void listRobots(RoutingContext ctx) {
        int limit = RobotRequests.limit(ctx);
        long after = RobotRequests.after(ctx);
        if (!Preconditions.untagged(ctx, "A page of robots")) {
            return;
        }
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
        Preconditions.none(ctx);
        String name = RobotRequests.name(ctx);
        idempotency.execute(ctx, conn -> robots.create(conn, name)
                        .map(robot -> Reply.of(201, robot.toJson().toBuffer(), "/v1/robots/" + robot.id(),
                                robot.etag())))
                .onSuccess(reply -> reply.send(ctx))
                .onFailure(ctx::fail);
    }

    /**
     * With If-Match, the ETag is compared under the row's lock, in the rename's transaction; the current name again
     * is a 200 that changes nothing.
     */
    private void renameRobot(RoutingContext ctx) {
        long id = RobotRequests.id(ctx);
        Idempotency.refuse(ctx);
        String name = RobotRequests.name(ctx);
        robots.rename(id, name, Preconditions.of(ctx), Guards.writeGate(ctx))
                .map(robot -> robot.orElseThrow(() -> missing(id)))
                .onSuccess(robot -> {
                    ctx.response().putHeader(ETAG, robot.etag());
                    send(ctx, 200, robot.toJson());
                })
                .onFailure(ctx::fail);
    }

    /** With If-Match, the ETag is compared under the row's lock, in the delete's transaction. */
    private void deleteRobot(RoutingContext ctx) {
        long id = RobotRequests.id(ctx);
        Idempotency.refuse(ctx);
        RobotRequests.requireNoBody(ctx);
        robots.delete(id, Preconditions.of(ctx), Guards.writeGate(ctx))
                .compose(deleted -> deleted ? Future.succeededFuture() : Future.failedFuture(missing(id)))
                .onSuccess(deleted -> ctx.response().setStatusCode(204).end())
                .onFailure(ctx::fail);
    }

    /** The background task of every 200 or 304 GET; its name is made only if a log needs it. */
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
