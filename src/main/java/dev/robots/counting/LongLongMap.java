package dev.robots.counting;

import java.util.Arrays;

/**
 * Sums per robot id: a {@code long → long} open-addressing hash map (linear probing, power-of-two capacity, load at
 * most 1/2). The boxed {@code HashMap<Long, Long>} it replaces costs ~80 bytes and three objects per robot; this
 * costs 16-32 bytes and none, which matters when a flush carries hundreds of thousands of robots. Not thread-safe.
 * Id 0 is never a robot (ids start at 1), so it marks a free slot.
 */
public final class LongLongMap {
    private static final int MIN_CAPACITY = 16;

    private long[] keys;
    private long[] values;
    private int size;

    public LongLongMap() {
        this(MIN_CAPACITY);
    }

    public LongLongMap(int expected) {
        int capacity = Integer.highestOneBit(Math.max(MIN_CAPACITY, expected) * 2 - 1) << 1;
        keys = new long[capacity];
        values = new long[capacity];
    }

    /** Adds {@code delta} to the sum of {@code key} (a positive id). */
    public void add(long key, long delta) {
        if (key <= 0) {
            throw new IllegalArgumentException("robot ids are positive, not " + key);
        }
        int slot = slot(key, keys);
        if (keys[slot] == key) {
            values[slot] += delta;
            return;
        }
        keys[slot] = key;
        values[slot] = delta;
        if (++size * 2 > keys.length) {
            grow();
        }
    }

    /**
     * Empties the map for reuse. The arrays stay, sized for what it held, unless they are more than eight times that:
     * a map that once held a burst (an outage's backlog) gives the memory back.
     */
    public void clear() {
        clear(size);
    }

    /** As {@link #clear()}, keeping the arrays unless they are more than eight times what {@code expected} needs. */
    public void clear(int expected) {
        int keep = Math.max(MIN_CAPACITY, expected);
        if (keys.length > 8 * keep) {
            int capacity = Integer.highestOneBit(keep * 2 - 1) << 1;
            keys = new long[capacity];
            values = new long[capacity];
        } else {
            // A free slot is a zero key; its value is written with the key.
            Arrays.fill(keys, 0);
        }
        size = 0;
    }

    /** Adds every sum of {@code other} to this one. */
    public void addAll(LongLongMap other) {
        other.forEach(this::add);
    }

    /** The sum of {@code key}, 0 when it has none. */
    public long get(long key) {
        int slot = slot(key, keys);
        return keys[slot] == key ? values[slot] : 0;
    }

    /** Whether {@code key} has a sum (which may be 0). */
    public boolean containsKey(long key) {
        return key > 0 && keys[slot(key, keys)] == key;
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /** The total of all sums. */
    public long total() {
        long total = 0;
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != 0) {
                total += values[i];
            }
        }
        return total;
    }

    /** Bytes held by the two arrays (the map's memory, for the gauge). */
    public long bytes() {
        return 16L * keys.length;
    }

    public interface Entry {
        void accept(long key, long value);
    }

    public void forEach(Entry action) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != 0) {
                action.accept(keys[i], values[i]);
            }
        }
    }

    /** A boxed copy, for tests and messages. */
    public java.util.Map<Long, Long> toMap() {
        var map = new java.util.HashMap<Long, Long>();
        forEach(map::put);
        return map;
    }

    /** The keys in ascending order (the order in which flushers lock rows). */
    public long[] sortedKeys() {
        return sortedKeys(new long[size]); // exactly its size: kept, not replaced
    }

    /**
     * The keys in ascending order in the first {@link #size()} places of {@code into}, or of a new array if it is too
     * small (with room to grow: the next call may have a few more) or more than eight times too large (a buffer that
     * once held a burst gives the memory back).
     */
    public long[] sortedKeys(long[] into) {
        long[] sorted = into.length < size || into.length > 8 * Math.max(MIN_CAPACITY, size)
                ? new long[size + size / 2] : into;
        int n = 0;
        for (long key : keys) {
            if (key != 0) {
                sorted[n++] = key;
            }
        }
        Arrays.sort(sorted, 0, n);
        return sorted;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldValues.length * 2];
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != 0) {
                int slot = slot(oldKeys[i], keys);
                keys[slot] = oldKeys[i];
                values[slot] = oldValues[i];
            }
        }
    }

    /** The slot holding {@code key}, or the free slot where it would go. */
    private static int slot(long key, long[] keys) {
        int mask = keys.length - 1;
        // Fibonacci hashing spreads sequential ids (the common case) over the table.
        int slot = (int) ((key * 0x9E3779B97F4A7C15L) >>> 32) & mask;
        while (keys[slot] != 0 && keys[slot] != key) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }
}
