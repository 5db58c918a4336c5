package dev.robots.repairs;

import dev.robots.db.Database;
import dev.robots.db.Dialect;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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
    /** How long applying a repair may wait for its robot's row (or run) before it goes back in the queue. */
    static final long APPLY_LIMIT_MS = 2_000;

    private final Vertx vertx;
    private final Dialect dialect;
    private final Pool pool;
    private final RepairRepository repairs;
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
        this.repairs = new RepairRepository(dialect);
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
        String claim = UUID.randomUUID().toString();
        return repairs.claim(pool, claim, now, now.plusMillis(leaseMs))
                .map(claimed -> claimed == null ? null : new Run(claimed.id(), claimed.robotId(), claim));
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
        repairs.renew(pool, run.id, run.claim, Instant.now().plusMillis(leaseMs))
                .onSuccess(renewed -> {
                    if (!renewed && !run.applying && !run.releasing && inFlight.get(run.id) == run) {
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
        dialect.inTransaction(pool, APPLY_LIMIT_MS,
                        conn -> repairs.apply(conn, run.id, run.robotId, run.claim))
                .onComplete(outcome -> applied(run, outcome));
    }

    /** {@code outcome}: whether the repair was done (false: its robot was gone, so it failed), or why not. */
    private void applied(Run run, AsyncResult<Boolean> outcome) {
        if (outcome.succeeded()) {
            robotChanged.accept(run.robotId);
            if (!outcome.result()) {
                failed.increment();
                LOG.info(() -> "Repair %d failed: robot %d was deleted".formatted(run.id, run.robotId));
            }
            end(run);
        } else if (outcome.cause() instanceof RepairRepository.LostClaim) {
            LOG.info(() -> "Repair %d was taken over by another worker; not applied here".formatted(run.id));
            end(run);
        } else if (Database.isBusy(outcome.cause())) {
            // Its robot's row is held elsewhere (a rename, a hand SELECT ... FOR UPDATE) past APPLY_LIMIT_MS: nothing
            // was applied, and the repair goes back in the queue to be claimed again, here or by another instance,
            // rather than fail for someone else's lock or keep a shutdown waiting for it.
            LOG.info(() -> "Repair %d waited too long for robot %d's row; it goes back in the queue: %s"
                    .formatted(run.id, run.robotId, outcome.cause().getMessage()));
            release(run);
        } else if (Database.isUnavailable(outcome.cause())) {
            // Still claimed: once its lease runs out, a worker (maybe this one) claims and applies it.
            logFailure("Repair %d could not be applied; it is retried once its lease runs out".formatted(run.id),
                    outcome.cause());
            end(run);
        } else {
            LOG.log(Level.WARNING, "Repair %d could not be applied".formatted(run.id), outcome.cause());
            markFailed(run, "The repair could not be applied: " + outcome.cause().getMessage());
        }
    }

    private void markFailed(Run run, String reason) {
        String failure = reason.length() > 500 ? reason.substring(0, 497) + "..." : reason;
        repairs.fail(pool, run.id, run.claim, failure).onComplete(marked -> {
            if (marked.succeeded() && marked.result()) {
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
        repairs.release(pool, run.id, run.claim).onComplete(released -> {
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
        repairs.queueState(pool)
                .onSuccess(state -> {
                    queued.set(state.queued());
                    running.set(state.running());
                    oldestMillis.set(state.oldest() == null ? 0
                            : Math.max(0, Duration.between(state.oldest(), Instant.now()).toMillis()));
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
