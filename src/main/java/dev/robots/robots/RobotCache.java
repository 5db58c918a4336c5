package dev.robots.robots;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.robots.db.Timestamps;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The robots of one instance's {@code GET /v1/robots/{id}} answers, so that most reads need no database at all.
 * Shared by the event loops of the instance.
 *
 * <p>Size: bounded in bytes ({@code CACHE_MB}), with Caffeine's W-TinyLFU admission, which keeps the popular robots
 * of a skewed key space when the working set does not fit, and ignores one-off reads (a flood of 404s for distinct
 * ids inserts nothing: a robot that was not found is not cached at all). Once full, it keeps a robot only once it was
 * missed repeatedly ({@link Doorkeeper}): a robot read once, or once in a while, is not worth an entry.
 *
 * <p>Counts: an entry holds the robot without its count, and the count beside it moves on what flushes report (this
 * instance's own, from their {@code RETURNING}; other instances', from their announcements): a flush changes no
 * robot's {@code version}, so it leaves the entry valid. Counts only go up here; a count lowered by hand is
 * announced as a change.
 *
 * <p>Coherence, per robot: every change to a robot's own state, made by any instance or by hand, removes its entry
 * ({@link #invalidate}); PostgreSQL tells every instance ({@link RobotChanges}), and this instance removes its own
 * changes at once. One load per robot is in flight at a time (others wait for it), and a load that overlaps an
 * invalidation of its robot is served to those already waiting but not kept, and not joined after it; an entry is never replaced by one of an older
 * version. While the instance cannot hear of changes the cache is off and empty. Entries also expire after
 * {@code ttl}, a bound on staleness should a change ever go unheard.
 */
public final class RobotCache {
    /** Bytes an entry costs beyond its two arrays: Caffeine's node, the key, the entry and the arrays' headers. */
    private static final int ENTRY_OVERHEAD = 160;
    /** About what an entry weighs (ENTRY_OVERHEAD and a robot's two arrays), to size the {@link Doorkeeper}. */
    private static final int AVERAGE_WEIGHT = 320;

    /** A robot's answer without its count: the bytes before and after the count's digits. */
    static final class Entry {
        private static final HexFormat UPPER_HEX = HexFormat.of().withUpperCase();
        private static final VarHandle COUNT;

        static {
            try {
                COUNT = MethodHandles.lookup().findVarHandle(Entry.class, "count", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final byte[] head;
        private final byte[] tail;
        private final long version;
        @SuppressWarnings("unused") // through COUNT
        private volatile long count;

        Entry(byte[] head, byte[] tail, long version, long count) {
            this.head = head;
            this.tail = tail;
            this.version = version;
            this.count = count;
        }

        /**
         * Written directly rather than through {@code JsonObject}: a load makes one entry per miss, and when the
         * working set does not fit, that is most requests (Jackson's generator and two maps per entry were 13% of the
         * bytes allocated under the 1M-uniform bench). Strings are escaped by Jackson's own encoder, so the bytes are
         * those {@code JsonObject.encode} writes.
         */
        static Entry of(Robot robot) {
            String name = quoted(robot.name());
            String head = "{\"message\":" + quoted("Robot is " + robot.name() + ".") + ",\"id\":" + robot.id()
                    + ",\"name\":" + name + ",\"count\":";
            String repairedAt = Timestamps.rfc3339(robot.repairedAt());
            String tail = ",\"created_at\":" + quoted(Timestamps.rfc3339(robot.createdAt()))
                    + ",\"repairs\":" + robot.repairs()
                    + ",\"repaired_at\":" + (repairedAt == null ? "null" : quoted(repairedAt)) + "}";
            return new Entry(head.getBytes(StandardCharsets.UTF_8), tail.getBytes(StandardCharsets.UTF_8),
                    robot.version(), robot.count());
        }

        /**
         * {@code value} as a JSON string, in the bytes that Vert.x's encoder (Jackson's UTF-8 generator) writes for
         * every other answer: a character outside the Basic Multilingual Plane as its two escaped surrogates
         * ({@code \\uD83E\\uDD16} for U+1F916), which Jackson's string encoder leaves as they are; the cached
         * answer wrote an emoji as raw UTF-8 where the create, the list and the repair wrote it escaped (a black-box
         * finding: one robot, two spellings).
         */
        private static String quoted(String value) {
            char[] quoted = JsonStringEncoder.getInstance().quoteAsString(value);
            var json = new StringBuilder(quoted.length + 2).append('"');
            for (char c : quoted) {
                if (Character.isSurrogate(c)) {
                    json.append("\\u").append(UPPER_HEX.toHexDigits(c));
                } else {
                    json.append(c);
                }
            }
            return json.append('"').toString();
        }

        long version() {
            return version;
        }

        long count() {
            return (long) COUNT.getVolatile(this);
        }

        /** Raises the count to {@code count} unless it is higher already (reports may arrive out of order). */
        void countAtLeast(long newCount) {
            long current;
            do {
                current = count();
                if (current >= newCount) {
                    return;
                }
            } while (!COUNT.compareAndSet(this, current, newCount));
        }

        /** The answer's body with {@code count}. */
        Buffer body(long count) {
            String digits = Long.toString(count);
            return Buffer.buffer(head.length + digits.length() + tail.length)
                    .appendBytes(head).appendString(digits).appendBytes(tail);
        }

        int weight() {
            return head.length + tail.length + ENTRY_OVERHEAD;
        }
    }

    /**
     * Which robots a full cache keeps: those missed repeatedly, not once. Caffeine decides admission after an
     * insertion: a new entry waits in its admission window, then competes with the eviction victim. So every miss it
     * was given allocated an entry that lived about as long as a young collection takes to come round; when the
     * working set does not fit, they overflowed the survivor space and Serial promoted them, and it grows the old
     * generation by what it promotes rather than collect it. The TinyLFU paper puts a "doorkeeper" Bloom filter in
     * front of its frequency sketch for this; Caffeine has none.
     *
     * <p>Two bitmaps, one hash, 16 bits per robot the cache holds. A <em>window</em> lasts until that many distinct
     * robots were missed. {@code once}: missed in this window. {@code repeated}: missed a second time within one window,
     * since the repeats were last forgotten (every {@link #WINDOWS_REMEMBERED} windows, so up to that many windows
     * back); such a robot is kept on its next miss. A false positive
     * only lets a robot in a miss early.
     *
     * <p>Measured (bench/README.md, session 11): a simulation of 1.5M reads through a 16 MiB cache, and
     * {@code bench/probe.py}. The earlier filter (one bitmap, 8 bits, kept on the second miss within one window) let
     * 5.5 % of uniform misses in (a robot seen in the last window, or a false positive), all of them churn: 20 bytes
     * promoted per request under 1M uniform, against 1.9 with the cache off. This one lets 0.8 % in (the server
     * under 1M uniform: 5 bytes promoted per request against 18, RSS 140 MiB against 150-155), and under Zipf keeps as
     * good a set (simulated hit ratio 0.774 against 0.770) with half the insertions: repeats remembered over eight
     * windows are a frequency signal, one window's second miss is mostly chance.
     */
    static final class Doorkeeper {
        static final int WINDOWS_REMEMBERED = 8;
        private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);
        private final long[] once;
        private final long[] repeated;
        private final int shift;
        private final int capacity;
        private final AtomicInteger seen = new AtomicInteger();
        private final AtomicInteger windows = new AtomicInteger();

        Doorkeeper(long robots) {
            int bits = Integer.highestOneBit(Math.clamp(robots * 16, 1 << 12, 1 << 29)) << 1;
            this.once = new long[bits >>> 6];
            this.repeated = new long[bits >>> 6];
            this.shift = 64 - Integer.numberOfTrailingZeros(bits);
            this.capacity = Math.clamp(robots, 1, Integer.MAX_VALUE);
        }

        /** Whether a full cache should keep {@code id}, missed now; the miss is recorded. */
        boolean admits(long id) {
            int bit = (int) ((id * 0x9E3779B97F4A7C15L) >>> shift); // Fibonacci hashing: the top bits, well mixed
            int word = bit >>> 6;
            long mask = 1L << bit; // (a shift takes the low 6 bits of bit: its place in the word)
            if (((long) WORDS.getVolatile(repeated, word) & mask) != 0) {
                return true;
            }
            if (((long) WORDS.getAndBitwiseOr(once, word, mask) & mask) != 0) {
                WORDS.getAndBitwiseOr(repeated, word, mask);
            } else if (seen.incrementAndGet() == capacity) {
                // Bits set meanwhile by the other event loop may go: each only delays a robot's entry by a miss.
                Arrays.fill(once, 0);
                seen.set(0);
                if (windows.incrementAndGet() % WINDOWS_REMEMBERED == 0) {
                    Arrays.fill(repeated, 0);
                }
            }
            return false;
        }
    }

    /** A load in flight. {@code count} is guarded by {@code loads}' lock on its key. */
    private static final class Load {
        final CompletableFuture<Optional<Entry>> result = new CompletableFuture<>();
        long count = -1;
    }

    private final Cache<Long, Entry> entries;
    /**
     * The newest version answered by a load that an invalidation overtook (its answer went to those waiting for it,
     * but was not kept). An entry older than it is neither kept nor served: two loads of one robot overlap only after
     * an invalidation, and the later one may read an older version than the earlier one served (their queries run on
     * different connections, in either order); a change is heard a moment after its commit, and in that moment an
     * older answer must not follow a newer one. Only overtaken loads are recorded, which are rare: a load that is kept
     * carries its version in its entry, and recording every load cost a second cache's churn on every miss (8 MB and
     * most of the promoted garbage under the 1M-uniform bench).
     */
    private final Cache<Long, Long> newest;
    private final ConcurrentHashMap<Long, Load> loads = new ConcurrentHashMap<>();
    private final long maxBytes;
    private final Doorkeeper doorkeeper;
    /** Whether an entry had to go to make room (since the last clearing): then a robot needs two misses to be kept. */
    private volatile boolean full;
    private final Counter hits;
    private final Counter misses;
    private final DistributionSummary loadBatches;
    private volatile boolean enabled;

    public RobotCache(long maxBytes, Duration ttl, boolean enabled, MeterRegistry meters) {
        this(maxBytes, ttl, enabled, meters, Ticker.systemTicker());
    }

    RobotCache(long maxBytes, Duration ttl, boolean enabled, MeterRegistry meters, Ticker ticker) {
        this.maxBytes = maxBytes;
        this.enabled = enabled && maxBytes > 0;
        this.entries = Caffeine.newBuilder()
                .maximumWeight(Math.max(0, maxBytes))
                .weigher((Long id, Entry entry) -> entry.weight())
                .expireAfterWrite(ttl)
                .ticker(ticker)
                .evictionListener((Long id, Entry entry, RemovalCause cause) -> {
                    if (cause == RemovalCause.SIZE) {
                        full = true;
                    }
                })
                // Eviction's upkeep runs on the calling thread, in small amortised steps: no thread of its own.
                .executor(Runnable::run)
                .build();
        this.doorkeeper = new Doorkeeper(Math.max(0, maxBytes) / AVERAGE_WEIGHT);
        this.newest = Caffeine.newBuilder()
                .maximumSize(Math.max(1024, maxBytes / ENTRY_OVERHEAD))
                .executor(Runnable::run)
                .build();
        this.hits = Counter.builder("robots.cache.requests").tag("result", "hit")
                .description("Robot retrievals answered from the read cache (hit) or not (miss)").register(meters);
        this.misses = Counter.builder("robots.cache.requests").tag("result", "miss")
                .description("Robot retrievals answered from the read cache (hit) or not (miss)").register(meters);
        this.loadBatches = DistributionSummary.builder("robots.cache.load.batch")
                .description("Robots asked for by one query of cache misses (RobotLoads)").register(meters);
        Gauge.builder("robots.cache.entries", entries, Cache::estimatedSize)
                .description("Robots in the read cache").register(meters);
        Gauge.builder("robots.cache.size", entries, cache -> cache.policy().eviction()
                        .flatMap(eviction -> eviction.weightedSize().stream().boxed().findFirst()).orElse(0L))
                .baseUnit("bytes").description("Estimated bytes held by the read cache").register(meters);
    }

    /** The cached robot {@code id}, or null; counts a hit or a miss. */
    Entry get(long id) {
        Entry entry = enabled ? entries.getIfPresent(id) : null;
        if (entry != null && entry.version() < newestVersion(id)) {
            entries.asMap().remove(id, entry);
            entry = null;
        }
        (entry == null ? misses : hits).increment();
        return entry;
    }

    /**
     * Robot {@code id} as {@code query} finds it, with one query per robot in flight: a caller that finds a load
     * under way waits for it. The answer is kept unless the robot changed meanwhile. Completes on the caller's
     * context.
     */
    Future<Optional<Entry>> load(long id, Supplier<Future<Optional<Robot>>> query) {
        var mine = new Load();
        Load load = loads.putIfAbsent(id, mine);
        if (load == null) {
            load = mine;
            query.get().onComplete(result -> finish(id, mine, result));
        }
        var context = Vertx.currentContext();
        return context == null ? Future.fromCompletionStage(load.result)
                : Future.fromCompletionStage(load.result, context);
    }

    private void finish(long id, Load load, AsyncResult<Optional<Robot>> result) {
        if (result.failed()) {
            loads.remove(id, load);
            load.result.completeExceptionally(result.cause());
            return;
        }
        Optional<Entry> found = result.result().map(Entry::of);
        var stillCurrent = new boolean[1];
        loads.computeIfPresent(id, (key, now) -> {
            if (now != load) {
                return now;
            }
            stillCurrent[0] = true;
            found.ifPresent(entry -> {
                entry.countAtLeast(load.count);
                // (An invalidation since the query began removed the load: this is not reached.)
                if (enabled && entry.version() >= newestVersion(id) && (!full || doorkeeper.admits(id))) {
                    keep(id, entry);
                }
            });
            return null;
        });
        if (!stillCurrent[0] && found.isPresent()) {
            // Overtaken by an invalidation (the load was removed, or another took its place): served, not kept, and no
            // older entry may follow it, whether the other load's entry is kept already or is about to be.
            newest.asMap().merge(id, found.get().version(), Math::max);
        }
        load.result.complete(found);
    }

    private long newestVersion(long id) {
        Long version = newest.policy().getIfPresentQuietly(id);
        return version == null ? -1 : version;
    }

    /** Keeps {@code entry} unless one of a newer version of the robot is there (per robot: versions only go up). */
    private void keep(long id, Entry entry) {
        entries.asMap().merge(id, entry, (old, fresh) -> {
            if (old.version() > fresh.version()) {
                return old;
            }
            if (old.version() == fresh.version()) {
                fresh.countAtLeast(old.count());
            }
            return fresh;
        });
    }

    /**
     * Robot {@code id} changed: its entry goes, and a load of it in flight is not kept. That load is also left to
     * those already waiting for it: a request that comes after the change (say, this instance's own write answered
     * just before) starts a load of its own, which reads the change.
     */
    public void invalidate(long id) {
        loads.remove(id);
        entries.invalidate(id);
    }

    /** A flush left robot {@code id} with {@code count} references: its entry (or the load in flight) takes it. */
    public void counted(long id, long count) {
        // The load first: one that ends between the two steps has put its entry, which the second step finds.
        loads.computeIfPresent(id, (key, load) -> {
            load.count = Math.max(load.count, count);
            return load;
        });
        Entry entry = entries.policy().getIfPresentQuietly(id);
        if (entry != null) {
            entry.countAtLeast(count);
        }
    }

    /** Off (and empty) from now on, until {@link #enable}: changes may go unheard. */
    public void disable() {
        enabled = false;
        clear();
    }

    /** On again, empty: changes are heard from now on. */
    public void enable() {
        clear();
        enabled = maxBytes > 0;
    }

    private void clear() {
        full = false; // room again: a robot is kept on its first miss until the cache fills
        loads.keySet().forEach(this::invalidate);
        entries.invalidateAll();
        // The newest versions stay: forgetting them could only let an older answer back in.
    }

    public boolean enabled() {
        return enabled;
    }

    public long size() {
        entries.cleanUp();
        return entries.estimatedSize();
    }

    /** A query of cache misses asked for {@code ids} robots. */
    void loadedBatch(int ids) {
        loadBatches.record(ids);
    }

    /** Whether robot {@code id} is cached (without counting a retrieval). */
    public boolean contains(long id) {
        return entries.policy().getIfPresentQuietly(id) != null;
    }
}
