package dev.robots.robots;

import dev.robots.db.Database;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Pool;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Hears of every change to a robot, by any instance or by hand, from PostgreSQL ({@code LISTEN robots_changed}; the
 * statement triggers of migrations V8, V11 and V12 announce a statement's rows in a few notifications on commit, see
 * there) and applies it to this instance's {@link RobotCache}: a changed or deleted robot's entry goes, a count that a flush
 * moved is taken over. The cache is on only while this listens: when the connection drops, the cache goes off and
 * empty, and this reconnects every second.
 *
 * <p>A database that stops answering sends no notifications either, so a {@code SELECT 1} goes out every
 * {@link #HEARTBEAT_MS}, independently of readiness. With hysteresis: only {@link #MISSES_ALLOWED} heartbeats in a
 * row unanswered within {@link #HEARTBEAT_MS} turn the cache off (a cached robot is then served at most about four
 * seconds into the silence). One slow answer on a busy database must not empty the cache and send every read to
 * that database. The silent connection itself is left to the pool's socket timeout (DB_SOCKET_TIMEOUT_MS).
 */
public final class RobotChanges {
    private static final Logger LOG = Logger.getLogger(RobotChanges.class.getName());
    static final String CHANNEL = "robots_changed";
    private static final long RECONNECT_MS = 1000;
    private static final long HEARTBEAT_MS = 1000;
    /** Heartbeats in a row that may go unanswered before the cache goes off. */
    static final int MISSES_ALLOWED = 3;

    private final Vertx vertx;
    private final Context context;
    private final Pool pool;
    private final RobotCache cache;
    private final Counter notifications;
    private final Counter missedHeartbeats;
    private PgConnection connection;
    private int misses;
    private long timer = -1;
    private boolean stopped;
    private final Promise<Void> firstAttempt = Promise.promise();
    /**
     * Whether the start got past the schema check: until then a failure to listen is kept, not logged. A database
     * that does not exist, or a login or {@code ?options=} it refuses, fails the listener first (it connects while
     * the schema is checked), and the start then stops with one line that says why; a warning before it only
     * repeated the cause at length.
     */
    private volatile boolean reporting;
    private volatile Throwable unreported;

    private RobotChanges(Vertx vertx, Database database, RobotCache cache, MeterRegistry meters) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        // Two: a connection given up after an unanswered heartbeat stays leased until its socket times out, and the
        // next attempt to listen should not wait for that.
        this.pool = database.newPool(vertx, "changes", 2);
        this.cache = cache;
        this.notifications = Counter.builder("robots.changes.notifications")
                .description("Notifications of robot changes received (each announces one or many robots)")
                .register(meters);
        this.missedHeartbeats = Counter.builder("robots.changes.heartbeats.missed")
                .description("Heartbeats of the connection that hears of robot changes that went unanswered")
                .register(meters);
    }

    /** Starts listening; the cache turns on once {@code LISTEN} succeeded. */
    public static RobotChanges start(Vertx vertx, Database database, RobotCache cache, MeterRegistry meters) {
        var changes = new RobotChanges(vertx, database, cache, meters);
        changes.context.runOnContext(v -> changes.listen());
        return changes;
    }

    /**
     * Completes when the first attempt to listen has ended, well or not (then it goes on trying). Asked once the
     * schema is there: from then on, failures to listen are logged, and one kept until now too.
     */
    public Future<Void> firstAttempt() {
        return firstAttempt.future().andThen(done -> {
            reporting = true;
            Throwable kept = unreported;
            unreported = null;
            if (kept != null && connection == null && !stopped) {
                LOG.warning("Cannot listen to robot changes, read cache off; retrying: " + kept);
            }
        });
    }

    private void listen() {
        if (stopped) {
            return;
        }
        pool.getConnection()
                .compose(conn -> {
                    PgConnection pg = PgConnection.cast(conn);
                    pg.notificationHandler(notification -> handle(notification.getPayload()));
                    pg.closeHandler(v -> lost(pg));
                    // Without a handler of its own, the SQL client prints a connection's error to stderr, a line
                    // outside the log's format (not JSON under LOG_FORMAT=json): a FATAL from pg_terminate_backend or
                    // a failover. The close that follows it is what this reports (lost), with the warning.
                    pg.exceptionHandler(e -> LOG.fine("The connection that hears of robot changes failed: " + e));
                    return pg.query("LISTEN " + CHANNEL).execute().map(pg)
                            .onFailure(e -> pg.close());
                })
                .onSuccess(pg -> {
                    connection = pg;
                    misses = 0;
                    cache.enable();
                    timer = vertx.setPeriodic(HEARTBEAT_MS, t -> heartbeat(pg));
                    LOG.fine("Listening to robot changes; read cache on");
                })
                .onFailure(e -> {
                    if (reporting) {
                        LOG.warning("Cannot listen to robot changes, read cache off; retrying: " + e);
                    } else {
                        unreported = e;
                    }
                    vertx.setTimer(RECONNECT_MS, t -> listen());
                })
                .onComplete(attempt -> firstAttempt.tryComplete());
    }

    private void heartbeat(PgConnection pg) {
        var answered = pg.query("SELECT 1").execute()
                .timeout(HEARTBEAT_MS, TimeUnit.MILLISECONDS);
        answered.onComplete(result -> {
            if (pg != connection) {
                return;
            }
            if (result.succeeded()) {
                misses = 0;
                return;
            }
            missedHeartbeats.increment();
            if (++misses >= MISSES_ALLOWED) {
                LOG.warning("The connection that hears of robot changes did not answer %d heartbeats in a row: %s"
                        .formatted(misses, result.cause()));
                lost(pg);
            }
        });
    }

    private void lost(PgConnection pg) {
        if (pg != connection) {
            return; // heard of already (a heartbeat that went unanswered, then the close)
        }
        connection = null;
        vertx.cancelTimer(timer);
        cache.disable();
        if (!stopped) {
            LOG.warning("Lost the connection that hears of robot changes; read cache off until it is back");
            vertx.setTimer(RECONNECT_MS, t -> listen());
        }
    }

    /**
     * Comma-separated items (migration V8): {@code +ID} a new robot (nothing to do: robots not found are not cached),
     * {@code ID} a changed or deleted robot, {@code ID=COUNT} a robot whose count alone went up to COUNT; or {@code *}
     * alone (V12), the table was truncated.
     */
    private void handle(String payload) {
        notifications.increment();
        if (payload.equals("*")) {
            cache.enable();
            return;
        }
        int start = 0;
        try {
            while (start < payload.length()) {
                int end = payload.indexOf(',', start);
                if (end < 0) {
                    end = payload.length();
                }
                int equals = payload.indexOf('=', start);
                if (payload.charAt(start) == '+') {
                    Long.parseLong(payload, start + 1, end, 10);
                } else if (equals >= 0 && equals < end) {
                    cache.counted(Long.parseLong(payload, start, equals, 10),
                            Long.parseLong(payload, equals + 1, end, 10));
                } else {
                    cache.invalidate(Long.parseLong(payload, start, end, 10));
                }
                start = end + 1;
            }
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            // Not one of our triggers' notifications: someone else talks on the channel; forget everything.
            LOG.warning("Unexpected notification on %s: %s".formatted(CHANNEL, payload));
            cache.enable();
        }
    }

    /** Stops listening and closes the connection; the cache goes off. */
    public Future<Void> stop() {
        return Future.<Void>future(promise -> context.runOnContext(v -> {
            stopped = true;
            vertx.cancelTimer(timer);
            cache.disable();
            pool.close().onComplete(promise);
        }));
    }
}
