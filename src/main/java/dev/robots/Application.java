package dev.robots;

import dev.robots.background.BackgroundTasks;
import dev.robots.config.Config;
import dev.robots.config.ConfigurationError;
import dev.robots.config.ListenAddress;
import dev.robots.counting.CountFlusher;
import dev.robots.counting.ReferenceCounter;
import dev.robots.db.Database;
import dev.robots.http.BearerAuth;
import dev.robots.http.Framing;
import dev.robots.http.Guards;
import dev.robots.http.Heads;
import dev.robots.http.Listeners;
import dev.robots.http.Problem;
import dev.robots.http.Problems;
import dev.robots.http.RequestIds;
import dev.robots.http.Targets;
import dev.robots.idempotency.Idempotency;
import dev.robots.observability.Metrics;
import dev.robots.repairs.RepairWorker;
import dev.robots.robots.RobotCache;
import dev.robots.robots.RobotChanges;
import io.micrometer.core.instrument.Gauge;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * The owner of everything that runs: it starts the database (schema and background pool), the listener that keeps
 * the read cache coherent, the reference flusher, one HTTP server per event loop and the metrics listener, in that
 * order, and stops them in reverse order within the shutdown timeout.
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
    /** What SHUTDOWN_TIMEOUT keeps, past the stop's deadline, for closing Vert.x and the JVM's exit. */
    private static final Duration EXIT_RESERVE = Duration.ofMillis(GRACE_MILLIS + 500);

    private final Config config;
    private final Vertx vertx;
    /** The event loops' transport (IoTransport), for the start's log line. */
    private final String transport;
    private final Metrics metrics;
    private final Database database;
    private final BearerAuth auth;
    private final BackgroundTasks background;
    private final ReferenceCounter references;
    private final CountFlusher flusher;
    private final RobotCache cache;
    private final RobotChanges changes;
    private final RepairWorker repairs;
    private long pruneTimer = -1;
    /** The JVM meters' delayed binding: cancelled by a stop that comes first, whose closed worker pool refuses it. */
    private volatile long jvmMetersTimer = -1;
    private final List<HttpVerticle> servers = new CopyOnWriteArrayList<>();
    private volatile boolean shuttingDown;
    private int port;
    private HttpServer metricsServer;
    /** The API servers' listening socket, and the metrics listener's: closed before their servers stop. */
    private final Listeners listeners = new Listeners();
    private final Listeners metricsListeners = new Listeners();
    private int metricsPort;

    private Application(Config config, Vertx vertx, String transport, Metrics metrics, Database database,
            BearerAuth auth) {
        this.config = config;
        this.vertx = vertx;
        this.transport = transport;
        this.metrics = metrics;
        this.database = database;
        this.auth = auth;
        this.background = new BackgroundTasks(vertx);
        this.references = new ReferenceCounter(config.countDelay().toMillis());
        boolean shared = database.dialect().sharedByInstances();
        // Where other instances share the database, the cache is off until this instance hears of their changes.
        this.cache = new RobotCache(config.cacheMegabytes() * 1024L * 1024L, config.cacheTtl(), !shared,
                metrics.registry());
        this.changes = shared && config.cacheMegabytes() > 0
                ? RobotChanges.start(vertx, database, cache, metrics.registry()) : null;
        // This instance's flushes report the new counts (RETURNING); other instances hear them announced.
        this.flusher = new CountFlusher(vertx, database, references, config.countFlush(), metrics.registry(),
                counts -> counts.forEach(cache::counted));
        this.repairs = new RepairWorker(vertx, database, config.repairDuration(), config.repairLease(),
                metrics.registry(), cache::invalidate);
        Gauge.builder("robots.background.tasks.pending", background, BackgroundTasks::pending)
                .description("Background tasks whose response was sent and that have not finished")
                .register(metrics.registry());
    }

    /**
     * Starts the service and returns once it serves requests. Blocks, so call it from a thread of its own (never an
     * event loop); throws what stopped the start, after closing what had started.
     */
    public static Application start(Config config) {
        ListenAddress.check(config);
        checkCacheFits(config.cacheMegabytes(), Runtime.getRuntime().maxMemory());
        var metrics = new Metrics();
        // A native transport (io_uring or epoll, IoTransport): its sockets take TCP_USER_TIMEOUT, which ends
        // connections to a database that went silent (Database.transport); it reaches Cloud Run's Cloud SQL Unix
        // socket too.
        var built = config.ioTransport().build(chosen -> metrics.newVertx(new VertxOptions(), chosen));
        var transport = built.transport();
        Vertx vertx = built.value();
        Database database = null;
        try {
            database = Database.connect(vertx, config);
            // Here, off the event loops and once DATA_DIR is locked: without configured tokens it reads or writes
            // DATA_DIR's token file.
            var auth = BearerAuth.of(config);
            // Made before the schema is checked, so that the read cache's listener connects meanwhile.
            var app = new Application(config, vertx, transport.name(), metrics, database, auth);
            return database.migrate().compose(migrated -> app.serve()).await();
        } catch (Exception e) {
            // await() rethrows checked failures too (a BindException, say). Bounded: a pool's connections to a
            // database that took them and went silent do not close, and the failed start hung here without a word,
            // SIGTERM included (black-box finding: a frozen database at start).
            try {
                vertx.close().await(GRACE_MILLIS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException closing) {
                LOG.fine("Vert.x did not close within %d ms after the failed start".formatted(GRACE_MILLIS));
            }
            if (database != null) {
                database.releaseDataDir();
            }
            if (e instanceof java.net.BindException) {
                // The port was free at ListenAddress.check and taken since.
                throw new ConfigurationError("PORT %d on HOST '%s' cannot be bound: %s"
                        .formatted(config.port(), config.host(), e.getMessage()));
            }
            throw e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * A read cache of more than half the heap stops the start. The cache fills as robots are read, so a CACHE_MB
     * beyond the heap (4096 on a 512 MiB instance, or a value meant in KiB) was accepted and served until enough
     * robots had been read, and then the JVM ran out of memory (and, with ExitOnOutOfMemoryError, exited), under
     * load and long after the deploy that set it.
     */
    static void checkCacheFits(int cacheMegabytes, long maxHeapBytes) {
        long heapMegabytes = maxHeapBytes / (1024 * 1024);
        if (maxHeapBytes != Long.MAX_VALUE && cacheMegabytes > heapMegabytes / 2) {
            throw new ConfigurationError(("CACHE_MB %d is more than half of this JVM's heap (%d MiB): the cache would "
                    + "run the instance out of memory; give at most %d, or a larger heap (-Xmx, "
                    + "-XX:MaxRAMPercentage)").formatted(cacheMegabytes, heapMegabytes, heapMegabytes / 2));
        }
    }

    /**
     * Once the read cache can hear of other instances' changes (or has tried to), starts the servers; then, off the
     * start's path and after the first requests of a cold start, adds the JVM's meters.
     */
    private Future<Application> serve() {
        return (changes == null ? Future.succeededFuture() : changes.firstAttempt())
                .compose(heard -> deployServers())
                .compose(serving -> serveMetrics())
                .onSuccess(serving -> jvmMetersTimer = vertx.setTimer(JVM_METERS_DELAY_MS,
                        timer -> vertx.executeBlocking(() -> {
                            metrics.bindJvmMetrics();
                            return null;
                        }, false).onFailure(e -> LOG.warning("Could not add the JVM's meters: " + e))));
    }

    /**
     * One HTTP server per event loop, each with its own pool, sharing one port. {@code DB_POOL_SIZE} is the total of
     * their connections: split as evenly as it goes, and with fewer serving event loops than cores when it is smaller
     * than the core count (a pool of its own per loop keeps each request and its queries on one thread; a shared
     * pool's cross-thread wake-ups cost more than the loops would gain).
     */
    private Future<Application> deployServers() {
        flusher.start();
        repairs.start();
        pruneTimer = vertx.setPeriodic(Idempotency.PRUNE_INTERVAL.toMillis(), timer -> Idempotency.prune(database.pool(), database.dialect())
                .onFailure(e -> LOG.warning("Could not delete expired idempotency keys: " + e)));
        int[] poolSizes = poolSizes(config.dbPoolSize(), Runtime.getRuntime().availableProcessors());
        var next = new AtomicInteger();
        // A negative port asks Vert.x for one random port shared by all the servers (0 would give each its own).
        var options = serverOptions(config.port() == 0 ? -1 : config.port());
        var services = new Services(config, database, metrics, new Guards(config, new AtomicInteger()),
                auth, background, references, cache, repairs::wake, () -> shuttingDown, listeners);
        return vertx.deployVerticle(() -> {
                    var verticle = new HttpVerticle(services, poolSizes[next.getAndIncrement()], options);
                    servers.add(verticle);
                    return verticle;
                }, new DeploymentOptions().setInstances(poolSizes.length))
                .map(deployed -> {
                    port = servers.getFirst().server().actualPort();
                    LOG.info("Listening on http://%s:%d with %s (%d event loops on %s, %s request connections)"
                            .formatted(config.host(), port, database.description(), poolSizes.length,
                                    transport, describe(poolSizes)));
                    return this;
                });
    }

    /** What the API's servers and the metrics server share: the same limits, and one protocol. */
    private HttpServerOptions serverOptions(int port) {
        return new HttpServerOptions().setHost(config.host()).setPort(port)
                .setMaxInitialLineLength(MAX_REQUEST_LINE).setMaxHeaderSize(MAX_HEADERS)
                .setIdleTimeout(IDLE_TIMEOUT_SECONDS).setIdleTimeoutUnit(TimeUnit.SECONDS)
                // HTTP/1.1 only: Cloud Run speaks it to the container, and h2c would be a second protocol (its own
                // framing, header compression, stream floods) for every limit and check here to hold on.
                .setHttp2ClearTextEnabled(false)
                // No WebSocket is served, so no WebSocket compression is offered. Offered (Vert.x's default), it put
                // Netty's WebSocketServerExtensionHandler in every connection's pipeline, which looks at every
                // request and (Netty 4.2.18) closes the connection unanswered once 128 requests are pipelined
                // ahead of their answers ("maxPipelineDepth exceeded"): 400 GETs sent in one write got no answer.
                .setPerMessageWebSocketCompressionSupported(false)
                .setPerFrameWebSocketCompressionSupported(false);
    }

    /**
     * The request pool of each serving event loop: one loop per core, but no more loops than connections, and sizes
     * that differ by one at most and sum to {@code total}.
     */
    static int[] poolSizes(int total, int cores) {
        int loops = Math.max(1, Math.min(cores, total));
        int[] sizes = new int[loops];
        for (int i = 0; i < loops; i++) {
            sizes[i] = total / loops + (i < total % loops ? 1 : 0);
        }
        return sizes;
    }

    private static String describe(int[] poolSizes) {
        int total = java.util.Arrays.stream(poolSizes).sum();
        return poolSizes[0] == poolSizes[poolSizes.length - 1]
                ? "%d (%d each)".formatted(total, poolSizes[0])
                : "%d (%d-%d each)".formatted(total, poolSizes[poolSizes.length - 1], poolSizes[0]);
    }

    /**
     * {@code /metrics} on {@code METRICS_PORT}: a listener of its own, so that the API's port (public on Cloud Run)
     * does not serve it; anything else there is a 404 problem. One server is enough for a scrape every few seconds.
     */
    private Future<Application> serveMetrics() {
        if (config.metricsOnApiPort()) {
            metricsPort = port;
            return Future.succeededFuture(this);
        }
        Router router = Router.router(vertx);
        RequestIds.mount(router); // a scraper's X-Request-Id is echoed, as on the API's port
        // As on the API's port: only a canonical target reaches the route (no //metrics, /%6detrics, /x/../metrics).
        Heads.mount(router);
        router.route().order(-1).handler(Targets::check);
        router.route().order(-1).handler(Framing::closeAfterUnreadBody);
        Problems.install(router);
        metrics.mount(router);
        router.route().handler(ctx -> Problems.send(ctx, Problem.notFound(
                "There is nothing at %s; this port serves GET /metrics only.".formatted(ctx.request().path()))));
        var options = serverOptions(config.metricsPort());
        // The same framing rules as the API's port: a scraper's proxy and this listener must not read a request
        // differently, and what the decoder refuses is a problem here too, not an empty answer.
        return Framing.install(vertx.createHttpServer(options), options, config.headTimeout(), router, "GET, HEAD",
                        metricsListeners, Framing.Unrouted.NONE)
                .listen()
                .map(server -> {
                    metricsServer = server;
                    metricsPort = server.actualPort();
                    LOG.info("Metrics on http://%s:%d/metrics".formatted(config.host(), metricsPort));
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

    /** Where {@code /metrics} is served: {@link #port()} if {@code METRICS_PORT} names it, else a port of its own. */
    public int metricsPort() {
        return metricsPort;
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

    /** The event loops that accepted connections are registered on (Listeners.stopAccepting). */
    private Iterable<EventExecutor> eventLoops() {
        return ((VertxInternal) vertx).nettyEventLoopGroup();
    }

    /**
     * Stops in order: readiness fails, the listening sockets close, the servers finish in-flight requests, background
     * tasks drain, the repair worker drains (repairs that cannot finish in time go back to the queue), the last
     * references are flushed, the pool closes, Vert.x closes. Blocks, so call it from a thread
     * of its own (never an event loop). Throws if references could not be written in time.
     */
    public void stop() {
        // SHUTDOWN_TIMEOUT is the time from the signal to the exit: closing Vert.x (up to GRACE_MILLIS) and the JVM's
        // exit come after this deadline, and overran it by about a second when the database had gone silent.
        long deadline = System.nanoTime() + config.shutdownTimeout().toNanos()
                - Math.min(EXIT_RESERVE.toNanos(), config.shutdownTimeout().toNanos() / 2);
        // The servers and background tasks must leave the last flush its share: clients that keep sending could
        // otherwise hold the drain open to the deadline, and the counts would go unwritten.
        long drainDeadline = deadline - flushReserve(config.shutdownTimeout()).toNanos();
        LOG.info("Shutting down: %d references pending".formatted(flusher.pending()));
        shuttingDown = true;
        vertx.cancelTimer(pruneTimer);
        vertx.cancelTimer(jvmMetersTimer);
        // Accepting stops first, then the servers: see Listeners.
        Future<Void> stopped = listeners.stopAccepting(eventLoops())
                .transform(notAccepting -> Future.join(servers.stream()
                        .map(verticle -> verticle.server().shutdown(remaining(drainDeadline).toMillis(),
                                TimeUnit.MILLISECONDS))
                        .toList()))
                .transform(servers -> background.drain(remaining(drainDeadline)))
                .transform(drained -> {
                    if (drained.failed()) {
                        LOG.warning(drained.cause().getMessage());
                    }
                    // The flush's reserve too: a repair that cannot finish (its robot's row held elsewhere) took
                    // all of SHUTDOWN_TIMEOUT once, and the last flush had none left.
                    return repairs.stop(remaining(drainDeadline));
                })
                .transform(repaired -> {
                    if (repaired.failed()) {
                        LOG.warning(repaired.cause().getMessage());
                    }
                    return flusher.stop(remaining(deadline));
                })
                .transform(flushed -> (changes == null ? Future.<Void>succeededFuture() : changes.stop())
                        .transform(stoppedListening -> database.close())
                        // Last: a collector's shut-down scrape still finds the metrics while the API drains.
                        .transform(closed -> metricsServer == null ? Future.<Void>succeededFuture()
                                : metricsListeners.stopAccepting(eventLoops())
                                        .transform(notAccepting -> metricsServer.close()))
                        .transform(closed -> (Future<Void>) flushed));
        try {
            // Bounded here too: each step has the deadline, but closing a pool whose connections hang on a database
            // that stopped answering need not honour it, and the platform's SIGKILL will not wait.
            stopped.await(Math.max(1, remaining(deadline).toMillis()), TimeUnit.MILLISECONDS);
            LOG.info("Stopped; every recorded reference was written");
        } catch (TimeoutException e) {
            flusher.abandon(); // before the pools close under a flush still in flight (finally)
            throw new Unfinished("Shutdown did not finish within SHUTDOWN_TIMEOUT; %d references unwritten"
                    .formatted(flusher.pending()));
        } finally {
            metrics.close();
            // Closed last and from this thread: callbacks chained after it would have no event loop to run on.
            try {
                vertx.close().await(GRACE_MILLIS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                LOG.warning("Vert.x did not close within %d ms".formatted(GRACE_MILLIS));
            }
            database.releaseDataDir();
        }
    }

    /**
     * The part of SHUTDOWN_TIMEOUT kept for the last flush and closing the pools: a quarter, at least a second, at most
     * half (2 s of the default 8). A flush writes one row per robot touched, in milliseconds on a database that answers;
     * the rest is room for a retry.
     */
    static Duration flushReserve(Duration shutdownTimeout) {
        long millis = shutdownTimeout.toMillis();
        return Duration.ofMillis(Math.min(millis / 2, Math.max(1000, millis / 4)));
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    /**
     * A shutdown that ran out of its time (a database that did not take the last flush): an outcome the log line
     * states in full, not a bug, so it carries no stack trace.
     */
    public static final class Unfinished extends RuntimeException {
        Unfinished(String message) {
            super(message, null, false, false);
        }
    }
}
