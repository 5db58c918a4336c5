package dev.robots.robots;

import dev.robots.db.Dialect;
import dev.robots.db.WriteGate;
import dev.robots.http.Preconditions;
import dev.robots.http.Problem;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The robots, as the routes see them: owns the read-cache protocol (cache look-ups, loads that fill it, invalidation
 * on every write made here), so that {@link RobotRoutes} only translates HTTP. One per event loop, on that loop's
 * pool; the cache is shared by all of them.
 */
public final class RobotService {
    private static final Logger LOG = Logger.getLogger(RobotService.class.getName());
    /** Ids a create tries before it gives up, when the sequence is behind ids inserted by hand. */
    static final int ID_TRIES = 10;
    private static final String SEQUENCE_FIX = "SELECT setval(pg_get_serial_sequence('robots', 'id'), "
            + "(SELECT max(id) FROM robots)) on PostgreSQL; ALTER TABLE robots ALTER COLUMN id RESTART WITH "
            + "<max(id) + 1> on the embedded database, while the service is stopped";
    private final Pool pool;
    private final Dialect dialect;
    private final RobotRepository robots;
    private final RobotCache cache;
    private final RobotLoads loads;

    /** {@code poolSize}: the connections of {@code pool}, as many as the cache's loads may use at once. */
    public RobotService(Pool pool, int poolSize, Dialect dialect, RobotCache cache) {
        this.pool = pool;
        this.dialect = dialect;
        this.robots = new RobotRepository(pool, dialect);
        this.cache = cache;
        this.loads = new RobotLoads(ids -> {
            cache.loadedBatch(ids.size());
            return robots.findAll(ids);
        }, poolSize);
    }

    /**
     * Robot {@code id} as {@code GET /v1/robots/{id}} answers it: from the cache, or loaded (one load per robot in
     * flight, batched with this loop's other misses, the answer kept); empty when there is no such robot. For a client
     * that has seen version {@code seen} of the robot (its If-Match or If-None-Match names it; -1: none), a cached copy
     * older than that is stale, so the robot is read from the database. A change made through another instance reaches this one's cache a moment after its commit (or, made
     * with the triggers off, only when the entry expires); in that moment a client that renamed a robot there and read
     * it here with the new ETag got the old robot back, or a 412 saying its newer ETag was not current.
     */
    Future<Optional<RobotCache.Entry>> answer(long id, long seen) {
        RobotCache.Entry cached = cache.get(id);
        if (cached != null && cached.version() >= seen) {
            return Future.succeededFuture(Optional.of(cached));
        }
        Future<Optional<RobotCache.Entry>> loaded = cache.load(id, () -> loads.find(id));
        if (seen < 0) {
            return loaded;
        }
        // A load this joined may have begun before the change the client saw: then one read of its own, after it.
        return loaded.compose(found -> found.isPresent() && found.get().version() < seen
                ? loads.find(id).map(robot -> robot.map(RobotCache.Entry::of))
                : Future.succeededFuture(found));
    }

    /** Up to {@code limit} robots with ids above {@code after}, in id order (never cached). */
    Future<List<Robot>> page(long after, int limit) {
        return robots.page(after, limit);
    }

    /**
     * Creates a robot on {@code client}: the transaction of an Idempotency-Key, say. An id the sequence hands out
     * that a row inserted by hand already has is passed over for the next one, up to {@link #ID_TRIES} in all; past
     * that, a 503 (nothing was created; each try moved the sequence on, so a retry gets further) and a warning that
     * says how to move the sequence past the table's ids.
     */
    Future<Robot> create(SqlClient client, String name) {
        // Nothing to invalidate: a robot that was not found is never cached, and ids are not reused.
        return create(client, name, 1);
    }

    private Future<Robot> create(SqlClient client, String name, int attempt) {
        return robots.create(client, name).compose(created -> {
            if (created.isPresent()) {
                if (attempt > 1) {
                    LOG.warning(() -> ("Robot %d was created after %d ids the sequence handed out were taken by rows "
                            + "inserted by hand; move the sequence past them: %s").formatted(created.get().id(),
                            attempt - 1, SEQUENCE_FIX));
                }
                return Future.succeededFuture(created.get());
            }
            if (attempt < ID_TRIES) {
                return create(client, name, attempt + 1);
            }
            LOG.warning(() -> ("A create found the next %d ids of the robots' sequence taken by rows inserted by hand "
                    + "and was refused; move the sequence past them: %s").formatted(ID_TRIES, SEQUENCE_FIX));
            return Future.failedFuture(new Problem(503, ("The robot could not be given an id: the next %d were taken "
                    + "by robots added by hand. Nothing was created; try again shortly.").formatted(ID_TRIES),
                    Map.of("Retry-After", "1")));
        });
    }

    /**
     * Renames robot {@code id}, in a transaction under the request's {@code gate}, with its row locked: with a
     * {@code condition} (If-Match) only if its ETag matches, or a 412 problem with the current ETag. A name that is
     * the robot's already changes nothing (no new version, no announcement to other instances) and answers the robot
     * as it is. Empty when there is no such robot.
     */
    Future<Optional<Robot>> rename(long id, String name, Preconditions condition, WriteGate gate) {
        return dialect.inTransaction(pool, gate, conn -> robots.lock(conn, id).compose(current -> {
                    checked(current, condition);
                    if (current.isEmpty() || current.get().name().equals(name)) {
                        return Future.succeededFuture(current);
                    }
                    return robots.rename(conn, id, name);
                }))
                // Once the transaction has ended, not at the UPDATE: a miss loaded between the UPDATE and the COMMIT
                // reads the old row, and would be kept (on H2, with no announcement to follow, until it expired).
                .andThen(done -> cache.invalidate(id));
    }

    /** Deletes robot {@code id}, under {@code condition} and {@code gate} as {@link #rename}; whether there was one. */
    Future<Boolean> delete(long id, Preconditions condition, WriteGate gate) {
        return dialect.inTransaction(pool, gate, conn -> condition == null
                        ? robots.delete(conn, id)
                        : robots.lock(conn, id).compose(current -> {
                            checked(current, condition);
                            return current.isEmpty() ? Future.succeededFuture(false) : robots.delete(conn, id);
                        }))
                .andThen(done -> cache.invalidate(id));
    }

    private static void checked(Optional<Robot> current, Preconditions condition) {
        if (condition != null && current.isPresent() && !condition.matches(current.get().etag())) {
            throw Preconditions.failed(current.get().etag());
        }
    }
}
