package dev.robots;

import dev.robots.docs.ApiDocs;
import dev.robots.http.Draining;
import dev.robots.http.Framing;
import dev.robots.http.Heads;
import dev.robots.http.Health;
import dev.robots.http.HttpDate;
import dev.robots.http.Problems;
import dev.robots.http.RequestIds;
import dev.robots.idempotency.Idempotency;
import dev.robots.observability.AccessLog;
import dev.robots.repairs.RepairRoutes;
import dev.robots.robots.RobotRoutes;
import dev.robots.robots.RobotService;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.sqlclient.Pool;

/**
 * One event loop's HTTP server, with its own connection pool: a request, its queries and its response stay on one
 * thread (a shared pool measured 2.5-7k req/s here, its cross-thread wake-ups topping the profile). Vert.x closes the
 * pool when the verticle is undeployed.
 */
final class HttpVerticle extends VerticleBase {
    private final Services services;
    private final int poolSize;
    private final HttpServerOptions options;
    private HttpServer server;
    private Router router;

    HttpVerticle(Services services, int poolSize, HttpServerOptions options) {
        this.services = services;
        this.poolSize = poolSize;
        this.options = options;
    }

    @Override
    public Future<?> start() {
        Pool pool = services.database().newRequestPool(vertx, "requests-" + deploymentID() + "-" + System.identityHashCode(this),
                poolSize);
        router = router(pool);
        var config = services.config();
        // Answers given without the router are logged and measured as the router's are.
        AccessLog accessLog = config.accessLog()
                ? new AccessLog(config.cloudProject(), config.trustProxy(), config.logFormat()) : null;
        var metrics = services.metrics();
        Framing.Unrouted unrouted = (request, parsed, started) -> {
            metrics.unrouted(request, parsed, started);
            if (accessLog != null) {
                accessLog.unrouted(request, parsed, started);
            }
        };
        return Framing.install(vertx.createHttpServer(options), options, config.headTimeout(), router,
                        "GET, HEAD, POST, PATCH, DELETE", services.listeners(), unrouted).listen()
                .onSuccess(listening -> server = listening);
    }

    /** All routes of the service. */
    private Router router(Pool pool) {
        Router router = Router.router(vertx);
        var config = services.config();
        services.metrics().measure(router);
        HttpDate.mount(router);
        Draining.mount(router, services.shuttingDown());
        RequestIds.mount(router);
        Heads.mount(router);
        if (config.accessLog()) {
            new AccessLog(config.cloudProject(), config.trustProxy(), config.logFormat()).mount(router);
        }
        services.guards().mount(router);
        Problems.install(router);
        new Health(services.database().pool(), services.shuttingDown()).mount(router);
        new ApiDocs(vertx).mount(router);
        if (config.metricsOnApiPort()) {
            services.metrics().mount(router); // else on METRICS_PORT only (Application)
        }
        var idempotency = new Idempotency(pool, services.database().dialect(), Idempotency.inProgressLock(config));
        var robots = new RobotRoutes(new RobotService(pool, poolSize, services.database().dialect(), services.cache()),
                idempotency, services.background(), services.references(), services.auth());
        robots.mountRead(router); // the hot path, before every other route with a path parameter (RobotRoutes)
        // Before the robots' other routes, so that /v1/robots/repair is not taken for a robot id.
        new RepairRoutes(pool, services.database().dialect(), idempotency, services.auth(), services.repairQueued())
                .mount(router);
        robots.mount(router);
        return router;
    }

    HttpServer server() {
        return server;
    }

    /** The routes, for the test that holds them to the OpenAPI document. */
    Router router() {
        return router;
    }
}
