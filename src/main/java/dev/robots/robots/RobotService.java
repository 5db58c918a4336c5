package dev.robots.robots;

import dev.robots.db.Dialect;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.Optional;

/**
 * The robots, as the routes see them: owns the read-cache protocol (cache look-ups, loads that fill it, invalidation
 * on every write made here), so that {@link RobotRoutes} only translates HTTP. One per event loop, on that loop's
 * pool; the cache is shared by all of them.
 */
public final class RobotService {
    private final RobotRepository robots;
    private final RobotCache cache;

    public RobotService(Pool pool, Dialect dialect, RobotCache cache) {
        this.robots = new RobotRepository(pool, dialect);
        this.cache = cache;
    }

    /**
     * Robot {@code id} as {@code GET /v1/robots/{id}} answers it: from the cache, or loaded (one query per robot in
     * flight, the answer kept); empty when there is no such robot.
     */
    Future<Optional<RobotCache.Entry>> answer(long id) {
        RobotCache.Entry cached = cache.get(id);
        if (cached != null) {
            return Future.succeededFuture(Optional.of(cached));
        }
        return cache.load(id, () -> robots.find(id));
    }

    Future<Optional<Robot>> find(long id) {
        return robots.find(id);
    }

    /** Up to {@code limit} robots with ids above {@code after}, in id order (never cached). */
    Future<List<Robot>> page(long after, int limit) {
        return robots.page(after, limit);
    }

    Future<Robot> create(String name) {
        // Nothing to invalidate: a robot that was not found is never cached, and ids are not reused.
        return robots.create(name);
    }

    Future<Optional<Robot>> rename(long id, String name) {
        return robots.rename(id, name).andThen(renamed -> cache.invalidate(id));
    }

    /** Whether there was such a robot. */
    Future<Boolean> delete(long id) {
        return robots.delete(id).andThen(deleted -> cache.invalidate(id));
    }

    /** Records a finished repair on the robot; whether there still was such a robot. */
    Future<Boolean> recordRepair(long id) {
        return robots.recordRepair(id).andThen(repaired -> cache.invalidate(id));
    }
}
