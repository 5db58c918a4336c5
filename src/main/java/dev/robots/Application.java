package dev.robots;

import dev.robots.background.BackgroundTasks;
import dev.robots.counting.CountFlusher;
import dev.robots.counting.ReferenceCounter;
import dev.robots.robots.RobotRoutes;
import dev.robots.system.Config;
import dev.robots.system.Database;
import dev.robots.system.Health;
import dev.robots.system.Problems;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The owner of everything that runs: it starts the database pool, the reference flusher and the HTTP servers, in
 * that order, and stops them in reverse order within the shutdown timeout.
 */
public final class Application {
    private static final Logger LOG = Logger.getLogger(Application.class.getName());

    private final Config config;
    private final Vertx vertx;
    private final Database database;
    private final Health health;
    private final BackgroundTasks background;
    private final ReferenceCounter references;
    private final CountFlusher flusher;
    private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
    private int port;

    private Application(Config config, Vertx vertx, Database database) {
        this.config = config;
        this.vertx = vertx;
        this.database = database;
        this.health = new Health(database);
        this.background = new BackgroundTasks(vertx);
        this.references = new ReferenceCounter(config.countDelay().toMillis());
        this.flusher = new CountFlusher(vertx, database, references, config.countFlush());
    }

    /**
     * Starts the service and returns once it serves requests. Blocks, so call it from a thread of its own (never an
     * event loop); throws what stopped the start, after closing what had started.
     */
    public static Application start(Config config) {
        Vertx vertx = Vertx.vertx();
        try {
            return Database.open(vertx, config)
                    .map(database -> new Application(config, vertx, database))
                    .compose(Application::serve)
                    .await();
        } catch (Exception e) {
            // await() rethrows checked failures too (a BindException, say)
            vertx.close().await();
            throw e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getMessage(), e);
        }
    }

    /** All routes of the service; the tests run these same routes. */
    Router router() {
        Router router = Router.router(vertx);
        Problems.install(router);
        health.mount(router);
        new RobotRoutes(database, background, references).mount(router);
        return router;
    }

    /** One HTTP server per core, each on its own event loop, sharing one port. */
    private Future<Application> serve() {
        flusher.start();
        Router router = router();
        // A negative port asks Vert.x for one random port shared by all the servers (0 would give each its own).
        var options = new HttpServerOptions().setHost(config.host()).setPort(config.port() == 0 ? -1 : config.port());
        return listen(router, options)
                .compose(first -> {
                    port = first.actualPort();
                    int more = Math.max(0, Runtime.getRuntime().availableProcessors() - 1);
                    return more == 0 ? Future.succeededFuture() : vertx.deployVerticle(
                            () -> new VerticleBase() {
                                @Override
                                public Future<?> start() {
                                    return listen(router, options);
                                }
                            },
                            new DeploymentOptions().setInstances(more));
                })
                .map(deployed -> {
                    LOG.info("Listening on http://%s:%d with %s"
                            .formatted(config.host(), port, database.description()));
                    return this;
                });
    }

    private Future<HttpServer> listen(Router router, HttpServerOptions options) {
        return vertx.createHttpServer(options).requestHandler(router).listen().onSuccess(servers::add);
    }

    public int port() {
        return port;
    }

    /** Background tasks whose response was sent and that have not finished. */
    public BackgroundTasks background() {
        return background;
    }

    /** References recorded and not yet in the database. */
    public long pendingReferences() {
        return flusher.pending();
    }

    /**
     * Stops in order: readiness fails, the servers stop taking connections and finish in-flight requests, background
     * tasks drain, the last references are flushed, the pool closes, Vert.x closes. Blocks, so call it from a thread
     * of its own (never an event loop). Throws if references could not be written in time.
     */
    public void stop() {
        long deadline = System.nanoTime() + config.shutdownTimeout().toNanos();
        LOG.info("Shutting down: %d references pending".formatted(flusher.pending()));
        health.shuttingDown();
        Future<Void> stopped = Future.join(servers.stream()
                        .map(server -> server.shutdown(remaining(deadline).toMillis(), TimeUnit.MILLISECONDS))
                        .toList())
                .transform(servers -> background.drain(remaining(deadline)))
                .transform(drained -> {
                    if (drained.failed()) {
                        LOG.warning(drained.cause().getMessage());
                    }
                    return flusher.stop(remaining(deadline));
                })
                .transform(flushed -> database.close().transform(closed -> (Future<Void>) flushed));
        try {
            stopped.await();
            LOG.info("Stopped; every recorded reference was written");
        } finally {
            // Closed last and from this thread: callbacks chained after it would have no event loop to run on.
            vertx.close().await();
        }
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }
}
