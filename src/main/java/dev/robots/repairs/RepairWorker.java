package dev.robots.repairs;

import dev.robots.db.Database;
import dev.robots.db.Dialect;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs the queued repairs of every instance, from the {@code repairs} table, with async SQL on a context of its own
 * (nothing here blocks a thread):
 *
 * <ul>
 * <li><b>claim</b>: one row at a time, queued or running with a lease that ran out (its instance died), is set
 * {@code running} with this worker's claim token and a lease of {@code REPAIR_LEASE_MS}. On PostgreSQL the row is
 * picked with {@code FOR UPDATE SKIP LOCKED}, so instances never wait on each other; on H2 (one process) a
 * conditional {@code UPDATE ... WHERE status = 'queued' OR lease ran out} claims it, and its row count tells;</li>
 * <li><b>run</b>: after {@code REPAIR_DURATION_MS}, renewing the lease meanwhile;</li>
 * <li><b>apply</b>: the robot's update and the repair's {@code done} in one transaction, guarded by the claim token:
 * a worker whose lease was taken over changes nothing, so each repair takes effect exactly once. A robot deleted
 * before that makes the repair {@code failed} with the reason; so does any other error that is not the database
 * being out of reach (that one leaves the repair to be claimed again once its lease runs out).</li>
 * </ul>
 *
 * The local route wakes it after a 202 is written; otherwise it looks every second (repairs queued by other instances,
 * leases that ran out). {@link #stop} drains it within the shutdown's time: a repair that cannot finish in time goes
 * back to {@code queued} for another instance.
 */
public final class RepairWorker {
    private static final Logger LOG = Logger.getLogger(RepairWorker.class.getName());
    /** How often the queue is looked at without a wake-up; also how often the metrics are read. */
    static final long POLL_MS = 1000;
    /** Repairs run at once by one instance; most of a repair's time is REPAIR_DURATION_MS, not work. */
    static final int PARALLEL = 8;
    /** Connections of the worker's own pool: one claims while another applies. */
    private static final int POOL_SIZE = 2;
    /** Time kept from the stop's budget for the releases (and the final flush after this). */
    private static final long STOP_MARGIN_MS = 500;
    private static final String CLAIMABLE =
            "(status = 'queued' OR (status = 'running' AND lease_until < #{now}))";

    private final Vertx vertx;
    private final Dialect dialect;
    private final Pool pool;
    private final long durationMs;
    private final long leaseMs;
    private final LongConsumer robotChanged;
    private final Counter failed;
    private final AtomicLong queued = new AtomicLong();
    private final AtomicLong running = new AtomicLong();
    private final AtomicLong oldestMillis = new AtomicLong();

    // Only touched on the worker's context.
    private Context context;
    private final Map<Long, Run> inFlight = new LinkedHashMap<>();
    private boolean claiming;
    private boolean again;
    private boolean stopping;
    private long pollTimer = -1;
    private Promise<Void> drained;

    /**
     * @param robotChanged told the id of a robot a repair changed, after the commit (for the read cache)
     */
    public RepairWorker(Vertx vertx, Database database, Duration duration, Duration lease, MeterRegistry meters,
            LongConsumer robotChanged) {
        this.vertx = vertx;
        this.dialect = database.dialect();
        this.pool = database.newPool(vertx, "repairs", POOL_SIZE);
        this.durationMs = duration.toMillis();
        this.leaseMs = lease.toMillis();
        this.robotChanged = robotChanged;
        this.failed = Counter.builder("robots.repairs.failed")
                .description("Repairs this instance marked failed (the robot was deleted, or the repair could not be "
                        + "applied)")
                .register(meters);
        Gauge.builder("robots.repairs.queued", queued, AtomicLong::get)
                .description("Repairs waiting for a worker, on all instances (read every second)").register(meters);
        Gauge.builder("robots.repairs.running", running, AtomicLong::get)
                .description("Repairs claimed by a worker and not finished, on all instances (read every second)")
                .register(meters);
        Gauge.builder("robots.repairs.oldest.age", oldestMillis, millis -> millis.get() / 1000.0)
                .baseUnit("seconds")
                .description("Age of the oldest repair that is queued or running; 0 when there is none")
                .register(meters);
    }

    /** Starts looking at the queue. */
    public void start() {
        context = vertx.getOrCreateContext();
        context.runOnContext(started -> {
            pollTimer = vertx.setPeriodic(POLL_MS, timer -> {
                fill();
                readMetrics();
            });
            fill();
            readMetrics();
        });
    }

    /** A repair was queued on this instance and its 202 written: look now rather than at the next poll. */
    public void wake() {
        if (context != null) {
            context.runOnContext(woken -> fill());
        }
    }

    /** Claims repairs until this instance runs {@link #PARALLEL} or none is left. */
    private void fill() {
        if (claiming) {
            again = true;
            return;
        }
        if (stopping || inFlight.size() >= PARALLEL) {
            return;
        }
        claiming = true;
        again = false;
        claim().onComplete(claimed -> {
            claiming = false;
            if (claimed.failed()) {
                logFailure("Could not claim a repair", claimed.cause());
            } else if (claimed.result() != null) {
                begin(claimed.result());
                again = true;
            }
            if (stopping) {
                checkDrained();
            } else if (again) {
                fill();
            }
        });
    }

    /** The oldest claimable repair, now this worker's; null when there is none. */
    private Future<Run> claim() {
        Instant now = Instant.now();
        var params = new HashMap<String, Object>();
        params.put("now", utc(now));
        params.put("lease_until", utc(now.plusMillis(leaseMs)));
        params.put("claim", UUID.randomUUID().toString());
        String set = "UPDATE repairs SET status = 'running', started_at = #{now}, claim = #{claim}, "
                + "lease_until = #{lease_until}, attempts = attempts + 1 ";
        return switch (dialect) {
            case POSTGRESQL -> SqlTemplate.forQuery(pool, set + "WHERE id = (SELECT id FROM repairs WHERE "
                            + CLAIMABLE + " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, robot_id")
                    .execute(params)
                    .map(rows -> rows.size() == 0 ? null : new Run(rows.iterator().next().getLong("id"),
                            rows.iterator().next().getLong("robot_id"), (String) params.get("claim")));
            case H2 -> SqlTemplate.forQuery(pool, "SELECT id FROM repairs WHERE " + CLAIMABLE + " ORDER BY id LIMIT 1")
                    .execute(params)
                    .compose(rows -> {
                        if (rows.size() == 0) {
                            return Future.succeededFuture(null);
                        }
                        params.put("id", rows.iterator().next().getLong("id"));
                        // Claimed only if it is still claimable as the UPDATE runs: the row count tells.
                        return SqlTemplate.forQuery(pool, dialect.returning(
                                        set + "WHERE id = #{id} AND " + CLAIMABLE, "id, robot_id"))
                                .execute(params)
                                .map(claimed -> claimed.size() == 0 ? null : new Run(
                                        claimed.iterator().next().getLong("id"),
                                        claimed.iterator().next().getLong("robot_id"), (String) params.get("claim")));
                    });
        };
    }

    private void begin(Run run) {
        if (stopping) {
            inFlight.put(run.id, run);
            release(run);
            return;
        }
        inFlight.put(run.id, run);
        long renewEvery = Math.max(100, leaseMs / 3);
        run.renewTimer = vertx.setPeriodic(renewEvery, timer -> renew(run));
        run.applyAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(durationMs);
        if (durationMs == 0) {
            apply(run);
        } else {
            run.durationTimer = vertx.setTimer(durationMs, timer -> {
                run.durationTimer = -1;
                apply(run);
            });
        }
    }

    /** Keeps the lease while the repair runs; a lease lost (taken over after a stall) ends this run. */
    private void renew(Run run) {
        Instant now = Instant.now();
        SqlTemplate.forUpdate(pool, "UPDATE repairs SET lease_until = #{lease_until} "
                        + "WHERE id = #{id} AND claim = #{claim} AND status = 'running'")
                .execute(Map.of("id", run.id, "claim", run.claim, "lease_until", utc(now.plusMillis(leaseMs))))
                .onSuccess(renewed -> {
                    if (renewed.rowCount() == 0 && !run.applying && !run.releasing && inFlight.get(run.id) == run) {
                        LOG.info(() -> "Repair %d was taken over by another worker".formatted(run.id));
                        end(run);
                    }
                })
                .onFailure(e -> logFailure("Could not renew the lease of repair " + run.id, e));
    }

    private void apply(Run run) {
        if (run.releasing || inFlight.get(run.id) != run) {
            return;
        }
        run.applying = true;
        dialect.inTransaction(pool, conn -> applyIn(conn, run)).onComplete(outcome -> {
            if (outcome.succeeded()) {
                robotChanged.accept(run.robotId);
                if (outcome.result() == Outcome.FAILED) {
                    failed.increment();
                    LOG.info(() -> "Repair %d failed: robot %d was deleted".formatted(run.id, run.robotId));
                }
                end(run);
            } else if (outcome.cause() instanceof LostClaim) {
                LOG.info(() -> "Repair %d was taken over by another worker; not applied here".formatted(run.id));
                end(run);
            } else if (Database.isUnavailable(outcome.cause())) {
                // Still claimed: once its lease runs out, a worker (maybe this one) claims and applies it.
                logFailure("Repair %d could not be applied; it is retried once its lease runs out".formatted(run.id),
                        outcome.cause());
                end(run);
            } else {
                LOG.log(Level.WARNING, "Repair %d could not be applied".formatted(run.id), outcome.cause());
                markFailed(run, "The repair could not be applied: " + outcome.cause().getMessage());
            }
        });
    }

    /** Marks the repair done and the robot repaired, or the repair failed if the robot is gone; guarded by the claim. */
    private Future<Outcome> applyIn(SqlConnection conn, Run run) {
        var params = new HashMap<String, Object>();
        params.put("id", run.id);
        params.put("robot_id", run.robotId);
        params.put("claim", run.claim);
        params.put("now", utc(Instant.now()));
        params.put("failure", "Robot %d was deleted before the repair could be applied.".formatted(run.robotId));
        return SqlTemplate.forUpdate(conn, "UPDATE repairs SET status = 'done', finished_at = #{now}, "
                        + "lease_until = NULL WHERE id = #{id} AND claim = #{claim} AND status = 'running'")
                .execute(params)
                .compose(done -> done.rowCount() == 0
                        ? Future.failedFuture(new LostClaim())
                        : SqlTemplate.forUpdate(conn, "UPDATE robots SET repairs = repairs + 1, "
                                        + "repaired_at = CURRENT_TIMESTAMP, version = version + 1 WHERE id = #{robot_id}")
                                .execute(params))
                .compose(repaired -> repaired.rowCount() == 1
                        ? Future.succeededFuture(Outcome.DONE)
                        : SqlTemplate.forUpdate(conn, "UPDATE repairs SET status = 'failed', failure = #{failure} "
                                        + "WHERE id = #{id}")
                                .execute(params)
                                .map(Outcome.FAILED));
    }

    private void markFailed(Run run, String reason) {
        String failure = reason.length() > 500 ? reason.substring(0, 497) + "..." : reason;
        SqlTemplate.forUpdate(pool, "UPDATE repairs SET status = 'failed', failure = #{failure}, finished_at = #{now}, "
                        + "lease_until = NULL WHERE id = #{id} AND claim = #{claim} AND status = 'running'")
                .execute(Map.of("id", run.id, "claim", run.claim, "failure", failure, "now", utc(Instant.now())))
                .onComplete(marked -> {
                    if (marked.succeeded() && marked.result().rowCount() == 1) {
                        failed.increment();
                    } else if (marked.failed()) {
                        logFailure("Could not mark repair %d failed; it is retried once its lease runs out"
                                .formatted(run.id), marked.cause());
                    }
                    end(run);
                });
    }

    /** Puts a repair this instance cannot finish back in the queue, for another instance. */
    private void release(Run run) {
        run.releasing = true;
        cancelTimers(run);
        SqlTemplate.forUpdate(pool, "UPDATE repairs SET status = 'queued', started_at = NULL, claim = NULL, "
                        + "lease_until = NULL WHERE id = #{id} AND claim = #{claim} AND status = 'running'")
                .execute(Map.of("id", run.id, "claim", run.claim))
                .onComplete(released -> {
                    if (released.failed()) {
                        logFailure(("Could not put repair %d back in the queue; it is claimed again once its lease "
                                + "runs out").formatted(run.id), released.cause());
                    }
                    end(run);
                });
    }

    private void end(Run run) {
        cancelTimers(run);
        inFlight.remove(run.id, run);
        if (stopping) {
            checkDrained();
        } else {
            fill();
        }
    }

    private void cancelTimers(Run run) {
        if (run.renewTimer >= 0) {
            vertx.cancelTimer(run.renewTimer);
            run.renewTimer = -1;
        }
        if (run.durationTimer >= 0) {
            vertx.cancelTimer(run.durationTimer);
            run.durationTimer = -1;
        }
    }

    private void readMetrics() {
        SqlTemplate.forQuery(pool, "SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM repairs "
                        + "WHERE status IN ('queued', 'running') GROUP BY status")
                .execute(Map.of())
                .onSuccess(rows -> {
                    long queuedNow = 0;
                    long runningNow = 0;
                    Instant oldest = null;
                    for (var row : rows) {
                        long n = row.getLong("n");
                        if ("queued".equals(row.getString("status"))) {
                            queuedNow = n;
                        } else {
                            runningNow = n;
                        }
                        Instant first = Repair.instant(row.getValue("oldest"));
                        if (first != null && (oldest == null || first.isBefore(oldest))) {
                            oldest = first;
                        }
                    }
                    queued.set(queuedNow);
                    running.set(runningNow);
                    oldestMillis.set(oldest == null ? 0 : Math.max(0, Duration.between(oldest, Instant.now()).toMillis()));
                })
                .onFailure(e -> logFailure("Could not read the repair queue's metrics", e));
    }

    /**
     * Stops claiming, lets the repairs that can finish within {@code budget} finish, and puts the others back in the
     * queue. Fails, saying how many were left, if that does not end within the budget: those are claimed again once
     * their leases run out.
     */
    public Future<Void> stop(Duration budget) {
        if (context == null) {
            return pool.close();
        }
        Promise<Void> promise = Promise.promise();
        context.runOnContext(stop -> {
            stopping = true;
            drained = promise;
            if (pollTimer >= 0) {
                vertx.cancelTimer(pollTimer);
            }
            long applyBy = System.nanoTime() + budget.toNanos() - TimeUnit.MILLISECONDS.toNanos(STOP_MARGIN_MS);
            for (Run run : new ArrayList<>(inFlight.values())) {
                if (!run.applying && !run.releasing && run.applyAt > applyBy) {
                    release(run);
                }
            }
            long timer = vertx.setTimer(Math.max(1, budget.toMillis()), late -> promise.tryFail(
                    "%d repairs were still running after %d ms; they are claimed again once their leases run out"
                            .formatted(inFlight.size(), budget.toMillis())));
            promise.future().onComplete(done -> vertx.cancelTimer(timer));
            checkDrained();
        });
        return promise.future().transform(drainedOrNot -> pool.close()
                .transform(closed -> drainedOrNot.succeeded() ? Future.<Void>succeededFuture()
                        : Future.<Void>failedFuture(drainedOrNot.cause())));
    }

    private void checkDrained() {
        if (drained != null && inFlight.isEmpty() && !claiming) {
            drained.tryComplete();
        }
    }

    /** The database being out of reach is expected now and then, and logged briefly; anything else in full. */
    private static void logFailure(String what, Throwable failure) {
        if (Database.isUnavailable(failure)) {
            LOG.warning(what + ": the database cannot be reached (" + failure.getMessage() + ")");
        } else {
            LOG.log(Level.WARNING, what, failure);
        }
    }

    private static OffsetDateTime utc(Instant instant) {
        return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    private enum Outcome { DONE, FAILED }

    /** The repair is no longer this worker's: its lease ran out and another worker claimed it. */
    private static final class LostClaim extends RuntimeException {
        LostClaim() {
            super("the claim was lost", null, false, false);
        }
    }

    /** A repair this worker claimed. */
    private static final class Run {
        final long id;
        final long robotId;
        final String claim;
        long renewTimer = -1;
        long durationTimer = -1;
        long applyAt;
        boolean applying;
        boolean releasing;

        Run(long id, long robotId, String claim) {
            this.id = id;
            this.robotId = robotId;
            this.claim = claim;
        }
    }
}
