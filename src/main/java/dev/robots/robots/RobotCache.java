package dev.robots.robots;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The {@code GET /v1/robots/{id}} answers of one instance, so that most reads need no database at all. Shared by
 * the event loops of the instance.
 *
 * <p>Coherence: every change to a robot, made by any instance, removes its entry ({@link #invalidate}); PostgreSQL
 * tells every instance of its changes ({@link RobotChanges}), and this instance removes its own at once. While the
 * instance cannot hear of changes (its listening connection is down) the cache is off, and it starts empty when it
 * hears again. A load that overlaps a change is not kept: {@link #found} takes the {@link #stamp} read before the
 * query, and any invalidation since then makes it drop its answer.
 *
 * <p>A change is heard a moment after its commit, and in that moment a load that read the robot before the change
 * could still be kept after another load has answered the changed robot: a client would see the new state, then
 * the old. So the cache remembers the newest version of each robot it has answered (the row's {@code version}
 * column moves on every change) and never keeps or serves an older one, nor a robot that a load found deleted.
 * Entries also expire after {@code ttlMillis}, a bound on staleness should a change ever go unheard. Counts in a
 * cached answer are those of the last flush that any instance made, as they were without the cache: each flush is
 * a change like any other.
 */
public final class RobotCache {
    private record Entry(byte[] body, long version, long loadedAt) {}

    /** The newest version of a robot that a load found deleted (ids are never reused). */
    private static final long GONE = Long.MAX_VALUE;

    private final ConcurrentHashMap<Long, Entry> entries = new ConcurrentHashMap<>();
    /** The newest version of each robot answered from the database; bounded like the entries. */
    private final ConcurrentHashMap<Long, Long> newest = new ConcurrentHashMap<>();
    /** Moves on every invalidation; a load keeps its answer only if it has not moved since the load began. */
    private final AtomicLong version = new AtomicLong();
    private final int maxEntries;
    private final long ttlMillis;
    private final LongSupplier clock;
    private volatile boolean enabled;

    public RobotCache(int maxEntries, long ttlMillis, boolean enabled) {
        this(maxEntries, ttlMillis, enabled, System::currentTimeMillis);
    }

    RobotCache(int maxEntries, long ttlMillis, boolean enabled, LongSupplier clock) {
        this.maxEntries = maxEntries;
        this.ttlMillis = ttlMillis;
        this.enabled = enabled && maxEntries > 0;
        this.clock = clock;
    }

    /** The cached answer for robot {@code id}, or null. */
    byte[] get(long id) {
        Entry entry = entries.get(id);
        if (entry == null) {
            return null;
        }
        if (clock.getAsLong() - entry.loadedAt() >= ttlMillis || entry.version() < newest.getOrDefault(id, -1L)) {
            entries.remove(id, entry);
            return null;
        }
        return entry.body();
    }

    /** To be read before a load whose answer may go into the cache. */
    long stamp() {
        return version.get();
    }

    /**
     * A load found robot {@code id} at {@code robotVersion} and answered {@code body}: keeps it unless the cache is
     * off, anything was invalidated since {@code stamp}, or a newer version of the robot has been answered.
     */
    void found(long id, long robotVersion, byte[] body, long stamp) {
        bound();
        long newestVersion = newest.merge(id, robotVersion, Math::max);
        if (!enabled || version.get() != stamp || robotVersion < newestVersion) {
            return;
        }
        var entry = new Entry(body, robotVersion, clock.getAsLong());
        entries.put(id, entry);
        // An invalidation between the check above and the put: it may have run its remove before the put.
        if (version.get() != stamp) {
            entries.remove(id, entry);
        }
    }

    /** A load found no robot {@code id}: no older answer for it may be kept or served from now on. */
    void missing(long id) {
        bound();
        newest.put(id, GONE);
        entries.remove(id);
    }

    /** Robot {@code id} was just created: a 404 remembered for it (asked for before it existed) no longer holds. */
    public void created(long id) {
        newest.remove(id, GONE);
    }

    public void invalidate(long id) {
        version.incrementAndGet();
        entries.remove(id);
    }

    public void invalidate(Collection<Long> ids) {
        version.incrementAndGet();
        ids.forEach(entries::remove);
    }

    /** Off (and empty) from now on, until {@link #enable}: changes may go unheard. */
    public void disable() {
        enabled = false;
        clear();
    }

    /** On again, empty: changes are heard from now on. */
    public void enable() {
        clear();
        enabled = maxEntries > 0;
    }

    /**
     * Crude, but bounded: when full, start again; a working set that fits is back after one load each. Forgetting
     * the newest versions is safe only together with every entry and every load in flight (the version moves).
     */
    private void bound() {
        if (entries.size() >= maxEntries || newest.size() >= 2 * maxEntries) {
            clear();
        }
    }

    private void clear() {
        version.incrementAndGet();
        entries.clear();
        newest.clear();
    }

    public boolean enabled() {
        return enabled;
    }

    public int size() {
        return entries.size();
    }
}
