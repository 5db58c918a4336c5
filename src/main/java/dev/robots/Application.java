package dev.robots;

import dev.robots.background.BackgroundTasks;
import dev.robots.config.Config;
import dev.robots.counting.CountFlusher;
import dev.robots.counting.ReferenceCounter;
import dev.robots.db.Database;
import dev.robots.http.BearerAuth;
import dev.robots.http.Guards;
import dev.robots.observability.Metrics;
import dev.robots.robots.RobotCache;
import dev.robots.robots.RobotChanges;
import io.micrometer.core.instrument.Gauge;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Route;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * The owner of everything that runs: it starts the database (schema and background pool), the listener that keeps
 * the read cache coherent, the reference flusher and one HTTP server per event loop, in that order, and stops them in
 * reverse order within the shutdown timeout.
 */
public final class Application {
    private static final Logger LOG = Logger.getLogger(Application.class.getName());
    /** Longest request line (method, URI, version) accepted; longer gets 414. */
    static final int MAX_REQUEST_LINE = 4096;
    /** Largest header block accepted; larger gets 431. */
    static final int MAX_HEADERS = 8192;
    /** A connection that sends nothing this long is closed, so slow or idle clients cannot hold it. */
    static final int IDLE_TIMEOUT_SECONDS = 30;
    /**
     * Binding the JVM's meters takes 50-80 ms of CPU (a JMX walk, MXBean proxies). Done at once on a worker, it ran
     * beside the first request after a cold start, on two cores (async-profiler); a second later it is out of its way.
     */
    private static final long JVM_METERS_DELAY_MS = 1000;
    /** How long a stop past its deadline may wait for Vert.x to close before the process exits anyway. */
    private static final long GRACE_MILLIS = 500;

    private final Config config;
    private final Vertx vertx;
    private final Metrics metrics;
    private final Database database;
    private final BackgroundTasks background;
    private final ReferenceCounter references;
    private final CountFlusher flusher;
    private final RobotCache cache;
    private final RobotChanges changes;
    private final List<HttpVerticle> servers = new CopyOnWriteArrayList<>();
    private volatile boolean shuttingDown;
    private int port;

    private Application(Config config, Vertx vertx, Metrics metrics, Database database) {
        this.config = config;
        this.vertx = vertx;
        this.metrics = metrics;
        this.database = database;
        this.background = new BackgroundTasks(vertx);
        this.references = new ReferenceCounter(config.countDelay().toMillis());
        boolean shared = database.dialect().sharedByInstances();
        // Where other instances share the database, the cache is off until this instance hears of their changes.
        this.cache = new RobotCache(config.cacheSize(), config.cacheTtl().toMillis(), !shared);
        this.changes = shared && config.cacheSize() > 0 ? RobotChanges.start(vertx, database, cache) : null;
        this.flusher = new CountFlusher(vertx, database, references, config.countFlush(), metrics.registry(),
                cache::invalidate);
        Gauge.builder("robots.background.tasks.pending", background, BackgroundTasks::pending)
                .description("Background tasks whose response was sent and that have not finished")
                .register(metrics.registry());
    }

    /**
     * Starts the service and returns once it serves requests. Blocks, so call it from a thread of its own (never an
     * event loop); throws what stopped the start, after closing what had started.
     */
    public static Application start(Config config) {
        var metrics = new Metrics();
        // Native transport (epoll): its sockets take TCP_USER_TIMEOUT, which ends connections to a database that went
        // silent (Database.transport); it reaches Cloud Run's Cloud SQL Unix socket too.
        Vertx vertx = metrics.newVertx(new VertxOptions().setPreferNativeTransport(true));
        try {
            var database = Database.connect(vertx, config);
            // Made before the schema is checked, so that the read cache's listener connects meanwhile.
            var app = new Application(config, vertx, metrics, database);
            return database.migrate().compose(migrated -> app.serve()).await();
        } catch (Exception e) {
            // await() rethrows checked failures too (a BindException, say)
            vertx.close().await();
            throw e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * Once the read cache can hear of other instances' changes (or has tried to), starts the servers; then, off the
     * start's path and after the first requests of a cold start, adds the JVM's meters.
     */
    private Future<Application> serve() {
        return (changes == null ? Future.succeededFuture() : changes.firstAttempt())
                .compose(heard -> deployServers())
                .onSuccess(serving -> vertx.setTimer(JVM_METERS_DELAY_MS, timer -> vertx.executeBlocking(() -> {
                    metrics.bindJvmMetrics();
                    return null;
                }, false).onFailure(e -> LOG.warning("Could not add the JVM's meters: " + e))));
    }

    /** One HTTP server per event loop (one per core), each with its own pool, sharing one port. */
    private Future<Application> deployServers() {
        flusher.start();
        int loops = Runtime.getRuntime().availableProcessors();
        int poolSize = Math.max(1, config.dbPoolSize() / loops);
        // A negative port asks Vert.x for one random port shared by all the servers (0 would give each its own).
        var options = new HttpServerOptions().setHost(config.host()).setPort(config.port() == 0 ? -1 : config.port())
                .setMaxInitialLineLength(MAX_REQUEST_LINE).setMaxHeaderSize(MAX_HEADERS)
                .setIdleTimeout(IDLE_TIMEOUT_SECONDS).setIdleTimeoutUnit(TimeUnit.SECONDS);
        var services = new Services(config, database, metrics, new Guards(config, new AtomicInteger()),
                BearerAuth.of(config), background, references, cache, () -> shuttingDown);
        return vertx.deployVerticle(() -> {
                    var verticle = new HttpVerticle(services, poolSize, options);
                    servers.add(verticle);
                    return verticle;
                }, new DeploymentOptions().setInstances(loops))
                .map(deployed -> {
                    port = servers.getFirst().server().actualPort();
                    LOG.info("Listening on http://%s:%d with %s (%d event loops, %d connections each)"
                            .formatted(config.host(), port, database.description(), loops, poolSize));
                    return this;
                });
    }

    /** The routes every server has (each event loop's router is built alike). */
    public List<Route> routes() {
        return servers.getFirst().router().getRoutes();
    }

    public int port() {
        return port;
    }

    /** Background tasks whose response was sent and that have not finished. */
    public BackgroundTasks background() {
        return background;
    }

    /** This instance's read cache of robots. */
    public RobotCache cache() {
        return cache;
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
        shuttingDown = true;
        Future<Void> stopped = Future.join(servers.stream()
                        .map(verticle -> verticle.server().shutdown(remaining(deadline).toMillis(), TimeUnit.MILLISECONDS))
                        .toList())
                .transform(servers -> background.drain(remaining(deadline)))
                .transform(drained -> {
                    if (drained.failed()) {
                        LOG.warning(drained.cause().getMessage());
                    }
                    return flusher.stop(remaining(deadline));
                })
                .transform(flushed -> (changes == null ? Future.<Void>succeededFuture() : changes.stop())
                        .transform(stoppedListening -> database.close())
                        .transform(closed -> (Future<Void>) flushed));
        try {
            // Bounded here too: each step has the deadline, but closing a pool whose connections hang on a database
            // that stopped answering need not honour it, and the platform's SIGKILL will not wait.
            stopped.await(Math.max(1, remaining(deadline).toMillis()), TimeUnit.MILLISECONDS);
            LOG.info("Stopped; every recorded reference was written");
        } catch (TimeoutException e) {
            throw new IllegalStateException("Shutdown did not finish within SHUTDOWN_TIMEOUT; %d references unwritten"
                    .formatted(flusher.pending()), e);
        } finally {
            metrics.close();
            // Closed last and from this thread: callbacks chained after it would have no event loop to run on.
            try {
                vertx.close().await(GRACE_MILLIS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                LOG.warning("Vert.x did not close within %d ms".formatted(GRACE_MILLIS));
            }
        }
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }
}
