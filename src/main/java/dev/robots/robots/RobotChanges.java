package dev.robots.robots;

import dev.robots.db.Database;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Pool;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Hears of every change to a robot, by any instance, from PostgreSQL ({@code LISTEN robots_changed}; a trigger of
 * migration V6 notifies each updated or deleted row's id on commit) and removes it from this instance's
 * {@link RobotCache}. The cache is on only while this listens: when the connection drops, the cache goes off and
 * empty, and this reconnects every second. A database that stops answering sends no notifications either, so a
 * {@code SELECT 1} goes out every {@link #HEARTBEAT_MS}: one unanswered for as long turns the cache off (a cached
 * robot is then served at most about two seconds into the silence, and the requests that need the database get
 * their 503s as before). The silent connection itself is left to the pool's socket timeout (DB_SOCKET_TIMEOUT_MS).
 */
public final class RobotChanges {
    private static final Logger LOG = Logger.getLogger(RobotChanges.class.getName());
    static final String CHANNEL = "robots_changed";
    private static final long RECONNECT_MS = 1000;
    private static final long HEARTBEAT_MS = 1000;

    private final Vertx vertx;
    private final Context context;
    private final Pool pool;
    private final RobotCache cache;
    private PgConnection connection;
    private long timer = -1;
    private boolean stopped;
    private final Promise<Void> firstAttempt = Promise.promise();

    private RobotChanges(Vertx vertx, Database database, RobotCache cache) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        // Two: a connection given up after an unanswered heartbeat stays leased until its socket times out, and the
        // next attempt to listen should not wait for that.
        this.pool = database.newPool(vertx, "changes", 2);
        this.cache = cache;
    }

    /** Starts listening; the cache turns on once {@code LISTEN} succeeded. */
    public static RobotChanges start(Vertx vertx, Database database, RobotCache cache) {
        var changes = new RobotChanges(vertx, database, cache);
        changes.context.runOnContext(v -> changes.listen());
        return changes;
    }

    /** Completes when the first attempt to listen has ended, well or not (then it goes on trying). */
    public Future<Void> firstAttempt() {
        return firstAttempt.future();
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
                    return pg.query("LISTEN " + CHANNEL).execute().map(pg)
                            .onFailure(e -> pg.close());
                })
                .onSuccess(pg -> {
                    connection = pg;
                    cache.enable();
                    timer = vertx.setPeriodic(HEARTBEAT_MS, t -> heartbeat(pg));
                    LOG.fine("Listening to robot changes; read cache on");
                })
                .onFailure(e -> {
                    LOG.warning("Cannot listen to robot changes, read cache off; retrying: " + e);
                    vertx.setTimer(RECONNECT_MS, t -> listen());
                })
                .onComplete(attempt -> firstAttempt.tryComplete());
    }

    private void heartbeat(PgConnection pg) {
        var answered = pg.query("SELECT 1").execute()
                .timeout(HEARTBEAT_MS, TimeUnit.MILLISECONDS);
        answered.onFailure(e -> {
            if (pg == connection) {
                LOG.warning("The connection that hears of robot changes did not answer: " + e);
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

    /** {@code id} for a changed or deleted robot, {@code +id} for a new one (see migration V6). */
    private void handle(String payload) {
        try {
            if (payload.startsWith("+")) {
                cache.created(Long.parseLong(payload, 1, payload.length(), 10));
            } else {
                cache.invalidate(Long.parseLong(payload));
            }
        } catch (NumberFormatException e) {
            // Not one of our trigger's notifications: someone else talks on the channel; forget everything.
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
