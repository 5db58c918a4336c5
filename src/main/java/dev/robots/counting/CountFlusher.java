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
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Writes the references recorded by a {@link ReferenceCounter} to the database every {@code COUNT_FLUSH_MS}, so
 * that database writes follow the number of robots touched, not the request rate.
 *
 * <p>A flush takes the due sums and cuts them, in id order, into chunks of at most {@link #CHUNK} robots; each chunk
 * is one transaction of a few statements with a fresh id, kept until the database confirms it. A failed chunk is
 * retried with the same id and the same sums, with backoff, while new references gather beside it; the id makes a
 * retry after an unknown commit outcome harmless. A chunk skips the robots whose rows another transaction holds
 * locked (PostgreSQL) rather than wait for them with the chunk's other robots: their sums go back and join the next
 * flush, in a chunk of a new id. Sums are kept in primitive maps; their memory is the gauge
 * {@code robots_references_memory_bytes}. All state lives on one Vert.x context.
 */
public final class CountFlusher {
    private static final Logger LOG = Logger.getLogger(CountFlusher.class.getName());
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    private static final Duration PRUNE_EVERY = Duration.ofMinutes(10);
    /**
     * Robots per transaction: bounds the time row locks are held, the statement's arrays and the announcements of
     * one commit, while keeping statements per robot small (6 statements per 1,000 robots). It was 5,000: a chunk's
     * arrays, boxed parameters and returned rows (about 1.2 MB) then lived through the 50-150 ms of its transaction,
     * outlived young collections and were promoted; under the 1M-uniform bench (back to back, under the lock) 1,000
     * took the RSS from ~350 to ~225 MiB with no full collection, and the p99 from 41-73 to 23-49 ms.
     */
    static final int CHUNK = 1_000;

    private final Vertx vertx;
    private final Context context;
    private final ReferenceCounter counter;
    private final CountRepository repository;
    private final Duration interval;
    private final Timer flushTime;
    private final Counter flushFailures;
    private final Counter rowsFlushed;
    private final Counter rowsSkipped;
    private final Consumer<LongLongMap> flushed;
    private final int chunkSize;

    /** Sums taken from the counter and not yet cut into chunks; emptied and reused, not replaced (ReferenceCounter). */
    private final LongLongMap ready = new LongLongMap();
    /**
     * Sums of robots that a written chunk skipped (their rows were locked elsewhere): they join {@code ready} when the
     * next flush begins, not at once, so that a row locked for long is tried once per flush, not in a loop.
     */
    private final LongLongMap skipped = new LongLongMap();
    /** Chunks cut from earlier sums and not yet confirmed, the first being the one in flight or to retry. */
    private final ArrayDeque<Chunk> chunks = new ArrayDeque<>();
    private int failures;
    private long timer = -1;
    private long pruneTimer = -1;
    private Future<Void> flushing = Future.succeededFuture();
    private boolean stopping;
    /** The shutdown ran out of time and closes the pools: what fails from then on fails because of that (abandon). */
    private volatile boolean abandoned;
    /** Sums taken from the counter and not yet confirmed by the database; read by other threads for the gauge. */
    private volatile long taken;
    /** Bytes of the sums taken and not yet confirmed; read by other threads for the gauge. */
    private volatile long takenBytes;

    private record Chunk(String id, long[] ids, long[] sums) {
        long total() {
            long total = 0;
            for (long sum : sums) {
                total += sum;
            }
            return total;
        }

        long sumOf(long robot) {
            return sums[Arrays.binarySearch(ids, robot)];
        }
    }

    /** {@code flushed} hears the new count of each robot a flush has changed, once its chunk committed. */
    public CountFlusher(Vertx vertx, Database database, ReferenceCounter counter, Duration interval,
            MeterRegistry meters, Consumer<LongLongMap> flushed) {
        this(vertx, database, counter, interval, meters, flushed, CHUNK);
    }

    CountFlusher(Vertx vertx, Database database, ReferenceCounter counter, Duration interval,
            MeterRegistry meters, Consumer<LongLongMap> flushed, int chunkSize) {
        this.flushed = flushed;
        this.chunkSize = chunkSize;
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.counter = counter;
        this.repository = new CountRepository(database.pool(), database.dialect());
        this.interval = interval;
        this.flushTime = Timer.builder("robots.count.flush")
                .description("Time to write one chunk of reference counts (one transaction)")
                .register(meters);
        this.flushFailures = Counter.builder("robots.count.flush.failures")
                .description("Attempts to write reference counts that failed (and were retried)").register(meters);
        this.rowsFlushed = Counter.builder("robots.count.flush.rows")
                .description("Robot rows whose counts flushes have written").register(meters);
        this.rowsSkipped = Counter.builder("robots.count.flush.skipped")
                .description("Robot rows a flush skipped because another transaction held them locked (their sums "
                        + "went with a later flush)").register(meters);
        Gauge.builder("robots.references.pending", this, CountFlusher::pending)
                .description("References recorded and not yet written to the database").register(meters);
        Gauge.builder("robots.references.memory", this, CountFlusher::memoryBytes).baseUnit("bytes")
                .description("Memory held for reference sums: those not yet written to the database, and the "
                        + "emptied maps kept for the next ones").register(meters);
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
            long started = System.nanoTime();
            collect(counter.takeDue(ready));
            flushing = flushOnce();
            flushing.onComplete(done -> {
                if (!stopping) {
                    // At a fixed rate: the next flush starts an interval after this one started, not after it ended.
                    // Counted from the end, a flush that took 0.8 s of each second (1M uniform bench) made the cycle
                    // 1.8 s, and the references waiting grew to about two intervals of traffic.
                    schedule(failures == 0 ? interval.minusNanos(System.nanoTime() - started) : backoff());
                }
            });
        });
    }

    private Duration backoff() {
        long millis = interval.toMillis() << Math.min(failures, 16);
        return Duration.ofMillis(Math.min(millis, Math.max(interval.toMillis(), MAX_BACKOFF.toMillis())));
    }

    /** {@code references} more were added to {@code ready}; the sums skipped before join them. */
    private void collect(long references) {
        ready.addAll(skipped);
        skipped.clear();
        taken += references;
        takenBytes = heldBytes();
    }

    /**
     * Writes the chunks waiting, after cutting what is ready into chunks; completes (never fails) when all are
     * written or one failed (the rest wait for the retry).
     */
    private Future<Void> flushOnce() {
        // Cut only when every earlier chunk is written: while the database fails, new sums merge into `ready`, so
        // memory stays bounded by the robots touched, not by the time the outage lasts.
        if (chunks.isEmpty() && !ready.isEmpty()) {
            cut(ready);
            ready.clear();
        }
        if (chunks.isEmpty()) {
            return Future.succeededFuture();
        }
        Chunk chunk = chunks.peekFirst();
        Timer.Sample started = Timer.start();
        return repository.apply(chunk.id(), chunk.ids(), chunk.sums()).transform(result -> {
            started.stop(flushTime);
            if (result.failed()) {
                failures++;
                flushFailures.increment();
                String failed = "Flush %s of %d references to %d robots failed (attempt %d)".formatted(chunk.id(),
                        chunk.total(), chunk.ids().length, failures);
                if (abandoned) {
                    // Not retried: the pools close under it, and the shutdown's own line says how many went unwritten.
                    LOG.fine(() -> failed + " as the shutdown closed the database pools: " + result.cause());
                } else {
                    LOG.warning(failed + ", will retry: " + result.cause());
                }
                return Future.succeededFuture();
            }
            if (failures > 0) {
                LOG.info("Reference counts flushed again after %d failed attempts".formatted(failures));
            }
            failures = 0;
            chunks.removeFirst();
            var outcome = result.result();
            long deferred = 0;
            for (long robot : outcome.skipped()) {
                long sum = chunk.sumOf(robot);
                skipped.add(robot, sum);
                deferred += sum;
            }
            taken -= chunk.total() - deferred;
            takenBytes = heldBytes();
            rowsFlushed.increment(chunk.ids().length - outcome.skipped().length);
            rowsSkipped.increment(outcome.skipped().length);
            if (outcome.skipped().length > 0) {
                // Not a warning: another instance's flush holds its rows for milliseconds, so skips come with load.
                long references = deferred;
                LOG.fine(() -> "Flush %s skipped %d robots locked by another transaction; their %d references go with "
                        .formatted(chunk.id(), outcome.skipped().length, references) + "the next flush");
            }
            if (outcome.repeated()) {
                LOG.info("Flush %s had already been applied; not applying it twice".formatted(chunk.id()));
            } else {
                flushed.accept(outcome.counts());
            }
            return flushOnce();
        });
    }

    /** Cuts {@code sums} into chunks in id order, each with its own flush id. */
    private void cut(LongLongMap sums) {
        long[] ids = sums.sortedKeys();
        for (int from = 0; from < ids.length; from += chunkSize) {
            long[] chunkIds = Arrays.copyOfRange(ids, from, Math.min(ids.length, from + chunkSize));
            long[] chunkSums = new long[chunkIds.length];
            for (int i = 0; i < chunkIds.length; i++) {
                chunkSums[i] = sums.get(chunkIds[i]);
            }
            chunks.addLast(new Chunk(UUID.randomUUID().toString(), chunkIds, chunkSums));
        }
    }

    /** Bytes of the sums taken from the counter and not yet written. */
    private long heldBytes() {
        return ready.bytes() + skipped.bytes() + chunkBytes();
    }

    private long chunkBytes() {
        long bytes = 0;
        for (Chunk chunk : chunks) {
            bytes += 16L * chunk.ids().length;
        }
        return bytes;
    }

    /** References recorded and not yet written to the database. */
    public long pending() {
        return counter.pending() + taken;
    }

    /** Bytes held by sums not yet written: the counter's slots and the flusher's own. */
    public long memoryBytes() {
        return counter.bytes() + takenBytes;
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

    /**
     * The shutdown gave up waiting for the last flush and is about to close the pools (SHUTDOWN_TIMEOUT passed): an
     * attempt in flight then fails for that reason, which the shutdown reports itself in one line with the references
     * left unwritten, so the attempt's failure is not a warning of its own (it said "will retry", and printed the
     * connection's exception, beside the shutdown's line; seen in CI, ShutdownOutOfTimeIT).
     */
    public void abandon() {
        abandoned = true;
    }

    private void finalFlush(long until, Promise<Void> done) {
        collect(counter.takeAll(ready));
        if (chunks.isEmpty() && ready.isEmpty()) {
            done.complete();
            return;
        }
        flushOnce().onComplete(attempt -> {
            if (chunks.isEmpty() && ready.isEmpty() && skipped.isEmpty()) {
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
