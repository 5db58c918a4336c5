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

    /** Sums taken from the counter and not yet being written; emptied and reused, not replaced (ReferenceCounter). */
    private LongLongMap ready = new LongLongMap();
    /**
     * Sums being written, a chunk at a time in id order ({@code order}); when all are written it is emptied and
     * changes places with {@code ready}. Sums that come meanwhile (or while the database fails) wait in {@code ready},
     * so memory stays bounded by the robots touched, not by the time an outage lasts.
     */
    private LongLongMap writing = new LongLongMap();
    /** The ids of {@code writing}, ascending, in its first {@code ordered} places; reused from flush to flush. */
    private long[] order = new long[0];
    private int ordered;
    /** How many of {@code order} were cut into chunks. */
    private int cut;
    /**
     * Sums of robots that a written chunk skipped (their rows were locked elsewhere): they join {@code ready} when the
     * next flush begins, not at once, so that a row locked for long is tried once per flush, not in a loop.
     */
    private final LongLongMap skipped = new LongLongMap();
    /**
     * The chunk in flight or to retry, if {@code inFlight}. Chunks are cut one at a time into the same arrays, when the
     * one before is confirmed: cut all at once, each with arrays of its own, a flush's chunks and their sorted ids
     * waited through the flush's other transactions, outlived young collections and were promoted (a heap dump with
     * its dead objects, 40 s into the 1M-uniform bench: 2,284 dead long[1000] in the old generation, 18 MB).
     */
    private final Chunk chunk;
    private boolean inFlight;
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

    /** A chunk's robots (ascending) and sums in the first {@code size} places of its arrays, under its flush id. */
    private static final class Chunk {
        final long[] ids;
        final long[] sums;
        int size;
        String id;

        Chunk(int capacity) {
            ids = new long[capacity];
            sums = new long[capacity];
        }

        long total() {
            long total = 0;
            for (int i = 0; i < size; i++) {
                total += sums[i];
            }
            return total;
        }

        long sumOf(long robot) {
            return sums[Arrays.binarySearch(ids, 0, size, robot)];
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
        this.chunk = new Chunk(chunkSize);
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
     * Writes the chunks waiting, cutting them as it goes; completes (never fails) when all are written or one failed
     * (the rest wait for the retry).
     */
    private Future<Void> flushOnce() {
        if (!cutNext()) {
            return Future.succeededFuture();
        }
        Timer.Sample started = Timer.start();
        return repository.apply(chunk.id, chunk.ids, chunk.sums, chunk.size).transform(result -> {
            started.stop(flushTime);
            if (result.failed()) {
                failures++;
                flushFailures.increment();
                String failed = "Flush %s of %d references to %d robots failed (attempt %d)".formatted(chunk.id,
                        chunk.total(), chunk.size, failures);
                if (abandoned) {
                    // Not retried: the pools close under it, and the shutdown's own line says how many went unwritten.
                    LOG.fine(() -> failed + " as the shutdown closed the database pools: " + result.cause());
                } else if (stopping && failures > 1) {
                    // The last flush retries every 100 ms until SHUTDOWN_TIMEOUT: a warning each time was some 70
                    // lines for one outage; the first says why, the shutdown's own line how many went unwritten.
                    LOG.fine(() -> failed + ", will retry until the shutdown's deadline: " + result.cause());
                } else {
                    LOG.warning(failed + ", will retry: " + result.cause());
                }
                return Future.succeededFuture();
            }
            if (failures > 0) {
                LOG.info("Reference counts flushed again after %d failed attempts".formatted(failures));
            }
            failures = 0;
            inFlight = false;
            var outcome = result.result();
            long deferred = 0;
            for (long robot : outcome.skipped()) {
                long sum = chunk.sumOf(robot);
                skipped.add(robot, sum);
                deferred += sum;
            }
            taken -= chunk.total() - deferred;
            takenBytes = heldBytes();
            rowsFlushed.increment(chunk.size - outcome.skipped().length);
            rowsSkipped.increment(outcome.skipped().length);
            String id = chunk.id;
            if (outcome.skipped().length > 0) {
                // Not a warning: another instance's flush holds its rows for milliseconds, so skips come with load.
                long references = deferred;
                LOG.fine(() -> "Flush %s skipped %d robots locked by another transaction; their %d references go with "
                        .formatted(id, outcome.skipped().length, references) + "the next flush");
            }
            if (outcome.repeated()) {
                LOG.info("Flush %s had already been applied; not applying it twice".formatted(id));
            } else {
                flushed.accept(outcome.counts());
            }
            return flushOnce();
        });
    }

    /**
     * Whether there is a chunk to write: the one in flight or failed, else the next {@code chunkSize} robots of
     * {@code writing} in id order, under a new flush id. When {@code writing} is all written, what is ready takes its
     * place.
     */
    private boolean cutNext() {
        if (inFlight) {
            return true;
        }
        if (cut == ordered) {
            if (ready.isEmpty()) {
                return false;
            }
            writing.clear();
            LongLongMap written = writing;
            writing = ready;
            ready = written;
            order = writing.sortedKeys(order);
            ordered = writing.size();
            cut = 0;
        }
        chunk.size = Math.min(chunkSize, ordered - cut);
        System.arraycopy(order, cut, chunk.ids, 0, chunk.size);
        for (int i = 0; i < chunk.size; i++) {
            chunk.sums[i] = writing.get(chunk.ids[i]);
        }
        chunk.id = UUID.randomUUID().toString();
        cut += chunk.size;
        inFlight = true;
        return true;
    }

    /** Whether sums taken from the counter wait to be written (ready, being written, or skipped). */
    private boolean holding() {
        return inFlight || cut < ordered || !ready.isEmpty() || !skipped.isEmpty();
    }

    /** Bytes of the sums taken from the counter and not yet written, and of the buffers kept for the next ones. */
    private long heldBytes() {
        return ready.bytes() + writing.bytes() + skipped.bytes() + 8L * order.length + 16L * chunkSize;
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
        if (!holding()) {
            done.complete();
            return;
        }
        flushOnce().onComplete(attempt -> {
            if (!holding()) {
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
