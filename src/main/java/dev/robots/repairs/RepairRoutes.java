package dev.robots.repairs;

import dev.robots.config.Config;
import dev.robots.db.Dialect;
import dev.robots.http.Preconditions;
import dev.robots.http.Problem;
import dev.robots.http.Problems;
import dev.robots.idempotency.Idempotency;
import dev.robots.idempotency.Reply;
import dev.robots.robots.RobotRequests;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.sqlclient.Pool;
import java.util.List;

/**
 * Durable repairs: a POST records the repair and answers 202 with its status monitor ({@code Location:
 * /v1/repairs/ID}, RFC 9110 §15.3.3); a {@link RepairWorker} on any instance runs it after the response.
 *
 * <pre>
 * curl -X POST localhost:8080/v1/robots/1/repair -H "Authorization: Bearer $TOKEN"
 * curl -X POST localhost:8080/v1/robots/repair -H "Authorization: Bearer $TOKEN" -d robot_id=1
 * curl localhost:8080/v1/repairs/1
 * curl 'localhost:8080/v1/robots/1/repairs?limit=50'
 * </pre>
 */
public final class RepairRoutes {
    private static final String JSON = "application/json; charset=utf-8";

    private final Pool pool;
    private final RepairRepository repairs;
    private final Idempotency idempotency;
    private final Handler<RoutingContext> auth;
    private final Runnable wake;

    /**
     * @param auth guards the routes that change data
     * @param wake tells this instance's worker that a repair was queued, once its 202 is written
     */
    public RepairRoutes(Pool pool, Dialect dialect, Idempotency idempotency, Handler<RoutingContext> auth,
            Runnable wake) {
        this.pool = pool;
        this.repairs = new RepairRepository(dialect);
        this.idempotency = idempotency;
        this.auth = auth;
        this.wake = wake;
    }

    /** Mount before the robots' routes, so that {@code /v1/robots/repair} is not taken for a robot id. */
    public void mount(Router router) {
        BodyHandler body = BodyHandler.create(false).setBodyLimit(Config.BODY_LIMIT_BYTES);
        // Each write route checks the token itself, first, before any body is read (BearerAuth is a security policy
        // handler, which Vert.x Web runs before a BodyHandler). The seed's own repair route, form field robot_id.
        router.post("/v1/robots/repair").handler(auth).handler(body).handler(this::repairFromForm);
        Problems.methodNotAllowed(router, "/v1/robots/repair", "POST");
        // No BodyHandler: this route takes no body, and refuses one before reading it.
        router.post("/v1/robots/:id/repair").handler(auth).handler(this::repairRobot);
        Problems.methodNotAllowed(router, "/v1/robots/:id/repair", "POST");
        router.route("/v1/robots/:id/repairs").method(HttpMethod.GET).method(HttpMethod.HEAD)
                .handler(this::listRepairs);
        Problems.methodNotAllowed(router, "/v1/robots/:id/repairs", "GET, HEAD");
        router.route("/v1/repairs/:repair_id").method(HttpMethod.GET).method(HttpMethod.HEAD)
                .handler(this::getRepair);
        Problems.methodNotAllowed(router, "/v1/repairs/:repair_id", "GET, HEAD");
    }

    private void repairRobot(RoutingContext ctx) {
        long id = RobotRequests.id(ctx);
        RobotRequests.requireNoBody(ctx);
        start(ctx, id);
    }

    private void repairFromForm(RoutingContext ctx) {
        start(ctx, RobotRequests.formRobotId(ctx));
    }

    /**
     * Records a queued repair and answers 202 with it; under If-Match, only if the robot's ETag matches (read under
     * its row lock, in the insert's transaction); under an Idempotency-Key, once.
     */
    private void start(RoutingContext ctx, long robotId) {
        Preconditions condition = Preconditions.of(ctx);
        idempotency.execute(ctx, conn -> repairs.robot(conn, robotId, condition != null).compose(robot -> {
                    if (robot == null) {
                        return Future.failedFuture(missing(robotId));
                    }
                    String etag = Preconditions.robotEtag(robot.getLong("version"));
                    if (condition != null && !condition.matches(etag)) {
                        return Future.failedFuture(Preconditions.failed(etag));
                    }
                    return repairs.insert(conn, robotId, robot.getString("name")).map(repair ->
                            Reply.of(202, repair.toJson().toBuffer(), Repair.location(repair.id()), null));
                }))
                .onSuccess(reply -> {
                    if (!reply.replayed()) {
                        // The repair runs after the response, as in the seed: this instance's worker looks at once.
                        ctx.addBodyEndHandler(written -> wake.run());
                    }
                    reply.send(ctx);
                })
                .onFailure(ctx::fail);
    }

    private void getRepair(RoutingContext ctx) {
        long id = RobotRequests.positiveLong(ctx.pathParam("repair_id"), "The repair id");
        Preconditions.checkReadable(ctx);
        repairs.find(pool, id)
                .compose(repair -> repair == null
                        ? Future.failedFuture(Problem.notFound("There is no repair with id %d.".formatted(id)))
                        : Future.succeededFuture(repair))
                // After the 404: a repair that is not there comes first. Null: the 304 is sent.
                .map(repair -> Preconditions.untagged(ctx, "A repair") ? repair : null)
                .onSuccess(repair -> {
                    if (repair != null) {
                        send(ctx, repair.toJson());
                    }
                })
                .onFailure(ctx::fail);
    }

    /**
     * A robot's repairs, newest first; {@code after} is the last (smallest) id of the previous page, and 0 or none
     * the start, as on the robots' list: {@code after=0} was taken as "ids below 0", an empty first page for a client
     * that starts both lists the same way.
     */
    private void listRepairs(RoutingContext ctx) {
        long robotId = RobotRequests.id(ctx);
        int limit = RobotRequests.limit(ctx);
        long cursor = RobotRequests.after(ctx);
        long after = cursor == 0 ? Long.MAX_VALUE : cursor;
        Preconditions.checkReadable(ctx);
        repairs.robotExists(pool, robotId)
                .compose(exists -> {
                    if (!exists) {
                        return Future.failedFuture(missing(robotId));
                    }
                    return Preconditions.untagged(ctx, "A page of repairs")
                            ? repairs.page(pool, robotId, after, limit + 1) : Future.<List<Repair>>succeededFuture(null);
                })
                .onSuccess(all -> {
                    if (all == null) {
                        return; // 304 Not Modified, sent
                    }
                    List<Repair> page = all.subList(0, Math.min(limit, all.size()));
                    String next = all.size() > limit
                            ? "/v1/robots/%d/repairs?limit=%d&after=%d".formatted(robotId, limit, page.getLast().id())
                            : null;
                    var repairs = new JsonArray();
                    page.forEach(repair -> repairs.add(repair.toJson()));
                    send(ctx, new JsonObject().put("repairs", repairs).put("next", next));
                })
                .onFailure(ctx::fail);
    }

    private static Problem missing(long id) {
        return Problem.notFound("There is no robot with id %d.".formatted(id));
    }

    private static void send(RoutingContext ctx, JsonObject body) {
        if (!ctx.response().ended()) {
            ctx.response().setStatusCode(200).putHeader("Content-Type", JSON).end(body.toBuffer());
        }
    }
}
