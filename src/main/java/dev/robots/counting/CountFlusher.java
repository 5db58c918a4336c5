package dev.robots.counting;

import dev.robots.db.Database;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Writes the references recorded by a {@link ReferenceCounter} to the database every {@code COUNT_FLUSH_MS}, so
 * that database writes follow the number of robots touched, not the request rate.
 *
 * <p>A flush takes the due sums as one batch with a fresh id and keeps it until the database confirms it. A failed
 * flush is retried with the same id and the same sums, with backoff, while new references gather beside it; the
 * id makes a retry after an unknown commit outcome harmless. All state lives on one Vert.x context.
 */
public final class CountFlusher {
    private static final Logger LOG = Logger.getLogger(CountFlusher.class.getName());
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    private static final Duration PRUNE_EVERY = Duration.ofMinutes(10);

    private final Vertx vertx;
    private final Context context;
    private final ReferenceCounter counter;
    private final CountRepository repository;
    private final Duration interval;
    private final Timer flushTime;
    private final Counter flushFailures;
    private final Consumer<Collection<Long>> flushed;

    private Map<Long, Long> ready = new HashMap<>();
    private Batch inFlight;
    private int failures;
    private long timer = -1;
    private long pruneTimer = -1;
    private Future<Void> flushing = Future.succeededFuture();
    private boolean stopping;
    /** Sums taken from the counter and not yet confirmed by the database; read by other threads for the gauge. */
    private volatile long taken;

    private record Batch(String id, Map<Long, Long> sums) {
        long total() {
            return sums.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** {@code flushed} hears the ids of the robots whose counts a flush has changed, once it committed. */
    public CountFlusher(Vertx vertx, Database database, ReferenceCounter counter, Duration interval,
            MeterRegistry meters, Consumer<Collection<Long>> flushed) {
        this.flushed = flushed;
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.counter = counter;
        this.repository = new CountRepository(database.pool(), database.dialect());
        this.interval = interval;
        this.flushTime = Timer.builder("robots.count.flush").description("Time to write one batch of reference counts")
                .register(meters);
        this.flushFailures = Counter.builder("robots.count.flush.failures")
                .description("Attempts to write reference counts that failed (and were retried)").register(meters);
        Gauge.builder("robots.references.pending", this, CountFlusher::pending)
                .description("References recorded and not yet written to the database").register(meters);
    }

    public void start() {
        context.runOnContext(v -> {
            schedule(interval);
            pruneTimer = vertx.setPeriodic(PRUNE_EVERY.toMillis(), t -> repository.pruneFlushes()
                    .onFailure(e -> LOG.warning("Could not prune old count flushes: " + e)));
        });
    }

    private void schedule(Duration delay) {
        timer = vertx.setTimer(Math.max(1, delay.toMillis()), t -> {
            collect(counter.takeDue());
            flushing = flushOnce();
            flushing.onComplete(done -> {
                if (!stopping) {
                    schedule(failures == 0 ? interval : backoff());
                }
            });
        });
    }

    private Duration backoff() {
        long millis = interval.toMillis() << Math.min(failures, 16);
        return Duration.ofMillis(Math.min(millis, Math.max(interval.toMillis(), MAX_BACKOFF.toMillis())));
    }

    private void collect(Map<Long, Long> sums) {
        long total = 0;
        for (var sum : sums.entrySet()) {
            ready.merge(sum.getKey(), sum.getValue(), Long::sum);
            total += sum.getValue();
        }
        taken += total;
    }

    /** Writes the batch in flight, or makes one of what is ready; completes (never fails) when the attempt ends. */
    private Future<Void> flushOnce() {
        if (inFlight == null) {
            if (ready.isEmpty()) {
                return Future.succeededFuture();
            }
            inFlight = new Batch(UUID.randomUUID().toString(), ready);
            ready = new HashMap<>();
        }
        Batch batch = inFlight;
        Timer.Sample started = Timer.start();
        return repository.apply(batch.id(), batch.sums()).transform(result -> {
            started.stop(flushTime);
            if (result.succeeded()) {
                if (failures > 0) {
                    LOG.info("Reference counts flushed again after %d failed attempts".formatted(failures));
                }
                if (!result.result()) {
                    LOG.info("Flush %s had already been applied; not applying it twice".formatted(batch.id()));
                }
                inFlight = null;
                taken -= batch.total();
                flushed.accept(batch.sums().keySet());
                failures = 0;
            } else {
                failures++;
                flushFailures.increment();
                LOG.warning("Flush %s of %d references to %d robots failed (attempt %d), will retry: %s".formatted(
                        batch.id(), batch.total(), batch.sums().size(), failures, result.cause()));
            }
            return Future.succeededFuture();
        });
    }

    /** References recorded and not yet written to the database. */
    public long pending() {
        return counter.pending() + taken;
    }

    /**
     * Stops the timer and writes everything recorded, the demonstration delay notwithstanding, retrying until
     * {@code deadline}. Fails, saying how many references were not written, if the database does not take them in
     * time. Call it once no more references are being recorded.
     */
    public Future<Void> stop(Duration deadline) {
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
            stopping = true;
            vertx.cancelTimer(timer);
            vertx.cancelTimer(pruneTimer);
            long until = System.nanoTime() + deadline.toNanos();
            flushing.onComplete(previous -> finalFlush(until, done));
        });
        return done.future();
    }

    private void finalFlush(long until, Promise<Void> done) {
        collect(counter.takeAll());
        if (inFlight == null && ready.isEmpty()) {
            done.complete();
            return;
        }
        flushOnce().onComplete(attempt -> {
            if (inFlight == null && ready.isEmpty()) {
                done.complete();
            } else if (System.nanoTime() >= until) {
                done.fail("%d references were not written to the database before the shutdown deadline"
                        .formatted(pending()));
            } else {
                vertx.setTimer(100, t -> finalFlush(until, done));
            }
        });
    }
}
