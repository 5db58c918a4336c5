package dev.robots.robots;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The robots one event loop could not answer from the cache, read from the database in batches: the ids asked for in
 * one turn of the loop go as one {@code SELECT ... WHERE id = ANY(...)}, and while every connection of the loop's pool
 * is busy, the ids that come meanwhile wait to go together in the next one.
 *
 * <p>Why: when the working set does not fit the cache (a million robots read uniformly), nearly every request is a
 * read of one row by its primary key, and one query per row spends the database's time and ours on the statement, not
 * the row: the protocol's messages, a round trip, an executor start-up per row. A batch of {@code n} ids costs about
 * one query plus {@code n} index look-ups. bench/README.md ("Scale") has the measurements.
 *
 * <p>Not thread-safe: one per event loop, used on that loop only (as its pool is).
 */
final class RobotLoads {
    /** Ids per query at most: bounds one query's work and its answer, so that no batch holds up a loop for long. */
    static final int MAX_BATCH = 256;

    private final Function<Collection<Long>, Future<List<Robot>>> query;
    private final int maxInFlight;
    private Map<Long, Promise<Optional<Robot>>> waiting = new HashMap<>();
    private int inFlight;
    private boolean sendScheduled;

    /**
     * {@code query}: the robots of some ids that exist ({@link RobotRepository#findAll}); {@code maxInFlight}: queries
     * under way at once, the connections of the loop's pool.
     */
    RobotLoads(Function<Collection<Long>, Future<List<Robot>>> query, int maxInFlight) {
        this.query = query;
        this.maxInFlight = Math.max(1, maxInFlight);
    }

    /** Robot {@code id}, empty if there is none; read with the other ids asked for meanwhile. */
    Future<Optional<Robot>> find(long id) {
        Context context = Vertx.currentContext();
        if (context == null || !context.isEventLoopContext()) {
            return query.apply(List.of(id)).map(found -> found.stream().findFirst()); // nothing to batch with
        }
        Promise<Optional<Robot>> promise = waiting.get(id);
        if (promise == null) {
            promise = Promise.promise();
            waiting.put(id, promise);
            scheduleSend(context);
        }
        return promise.future();
    }

    /** Sends once the loop has read what this turn brought, unless every connection is busy (then on a return). */
    private void scheduleSend(Context context) {
        if (!sendScheduled && inFlight < maxInFlight) {
            sendScheduled = true;
            context.runOnContext(v -> send(context));
        }
    }

    private void send(Context context) {
        sendScheduled = false;
        while (!waiting.isEmpty() && inFlight < maxInFlight) {
            Map<Long, Promise<Optional<Robot>>> batch = take();
            inFlight++;
            query.apply(batch.keySet()).onComplete(result -> {
                inFlight--;
                if (result.succeeded()) {
                    Map<Long, Robot> found = new HashMap<>(result.result().size() * 2);
                    result.result().forEach(robot -> found.put(robot.id(), robot));
                    batch.forEach((id, promise) -> promise.complete(Optional.ofNullable(found.get(id))));
                } else {
                    batch.values().forEach(promise -> promise.fail(result.cause()));
                }
                if (!waiting.isEmpty()) {
                    scheduleSend(context);
                }
            });
        }
    }

    /** Up to {@link #MAX_BATCH} of the waiting ids, taken out of {@link #waiting}. */
    private Map<Long, Promise<Optional<Robot>>> take() {
        if (waiting.size() <= MAX_BATCH) {
            Map<Long, Promise<Optional<Robot>>> all = waiting;
            waiting = new HashMap<>();
            return all;
        }
        Map<Long, Promise<Optional<Robot>>> batch = new HashMap<>(MAX_BATCH * 2);
        var entries = waiting.entrySet().iterator();
        while (batch.size() < MAX_BATCH) {
            var entry = entries.next();
            batch.put(entry.getKey(), entry.getValue());
            entries.remove();
        }
        return batch;
    }
}
