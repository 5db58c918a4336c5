package dev.robots;

import dev.robots.background.BackgroundTasks;
import dev.robots.counting.ReferenceCounter;
import dev.robots.robots.RobotCache;
import dev.robots.robots.RobotRoutes;
import dev.robots.system.AccessLog;
import dev.robots.system.BearerAuth;
import dev.robots.system.Config;
import dev.robots.system.Database;
import dev.robots.system.Guards;
import dev.robots.system.Metrics;
import dev.robots.system.Health;
import dev.robots.system.Problems;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.sqlclient.Pool;
import java.util.function.BooleanSupplier;

/**
 * One event loop's HTTP server, with its own connection pool: a request, its queries and its response stay on one
 * thread (a shared pool measured 2.5-7k req/s here, its cross-thread wake-ups topping the profile). Vert.x closes the
 * pool when the verticle is undeployed.
 */
final class HttpVerticle extends VerticleBase {
    private final Config config;
    private final Database database;
    private final int poolSize;
    private final HttpServerOptions options;
    private final Metrics metrics;
    private final Guards guards;
    private final BearerAuth auth;
    private final BackgroundTasks background;
    private final ReferenceCounter references;
    private final RobotCache cache;
    private final BooleanSupplier shuttingDown;
    private HttpServer server;

    HttpVerticle(Config config, Database database, int poolSize, HttpServerOptions options, Metrics metrics,
            Guards guards, BearerAuth auth, BackgroundTasks background, ReferenceCounter references,
            RobotCache cache, BooleanSupplier shuttingDown) {
        this.config = config;
        this.database = database;
        this.poolSize = poolSize;
        this.options = options;
        this.metrics = metrics;
        this.guards = guards;
        this.auth = auth;
        this.background = background;
        this.references = references;
        this.cache = cache;
        this.shuttingDown = shuttingDown;
    }

    @Override
    public Future<?> start() {
        Pool pool = database.newPool(vertx, "requests-" + deploymentID() + "-" + System.identityHashCode(this), poolSize);
        return vertx.createHttpServer(options).requestHandler(router(pool)).listen()
                .onSuccess(listening -> server = listening);
    }

    /** All routes of the service. */
    private Router router(Pool pool) {
        Router router = Router.router(vertx);
        metrics.measure(router);
        if (config.accessLog()) {
            new AccessLog(config.cloudProject(), config.trustProxy(), config.logFormat()).mount(router);
        }
        guards.mount(router);
        Problems.install(router);
        new Health(pool, shuttingDown).mount(router);
        metrics.mount(router);
        new RobotRoutes(pool, database.dialect(), cache, background, references, auth).mount(router);
        return router;
    }

    HttpServer server() {
        return server;
    }
}
