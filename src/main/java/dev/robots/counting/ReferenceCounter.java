package dev.robots.counting;

import java.util.ArrayList;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.LongSupplier;

/**
 * References recorded in memory, summed per robot (in primitive maps: no boxes per robot), until the flusher takes
 * them. Recording is a map update under a short lock and never touches the database.
 *
 * <p>References are kept in time slots of {@value #SLOT_MS} ms by the time they become due ({@code COUNT_DELAY_MS}
 * after they were recorded), so memory is bounded by robots × slots, not by requests. A slot is removed and sealed
 * before it is read; a recorder that still holds the sealed slot records into a fresh one instead, so no reference
 * is lost between the two.
 *
 * <p>A taken slot's map, emptied, serves a later slot. Each slot lives about a flush interval, long enough to outlive
 * several young collections under load and be promoted; a new map per slot (and its growth by doubling) made the
 * counting path most of the garbage the old generation filled with under the 1M-robot bench (GC log: the heap after
 * collections grew ~10 MB/s with the flusher on, and the service's RSS was 349 MiB against 230 MiB with it off).
 */
public final class ReferenceCounter {
    static final long SLOT_MS = 100;

    private final ConcurrentSkipListMap<Long, Slot> slots = new ConcurrentSkipListMap<>();
    /** Emptied maps of taken slots; at most as many as slots were ever open at once. */
    private final ConcurrentLinkedQueue<LongLongMap> spares = new ConcurrentLinkedQueue<>();
    private final LongSupplier clock;
    private final long delayMs;

    public ReferenceCounter(long delayMs) {
        this(delayMs, System::currentTimeMillis);
    }

    ReferenceCounter(long delayMs, LongSupplier clock) {
        this.delayMs = delayMs;
        this.clock = clock;
    }

    /** Counts one reference to {@code robotId}. */
    public void record(long robotId) {
        long slot = Math.ceilDiv(clock.getAsLong() + delayMs, SLOT_MS);
        // A slot is sealed only after its removal, so a retry finds or makes a fresh one.
        while (!slot(slot).add(robotId)) {
            Thread.onSpinWait();
        }
    }

    /**
     * The open slot {@code key}, made with a spare map if there is none. Not computeIfAbsent: ConcurrentSkipListMap's
     * may make a value that it then drops when two threads race for a new slot (two event loops, every
     * {@value #SLOT_MS} ms), and the spare map went with it: a new map then grew from nothing, and the dropped one
     * (long-lived, so in the old generation) was garbage there (1M-uniform bench: 160 dead maps' arrays, 15 MB).
     */
    private Slot slot(long key) {
        Slot open = slots.get(key);
        if (open != null) {
            return open;
        }
        var fresh = new Slot(spares.poll());
        open = slots.putIfAbsent(key, fresh);
        if (open == null) {
            return fresh;
        }
        spares.offer(fresh.seal()); // lost the race: its map, still empty, goes back
        return open;
    }

    /**
     * Adds the sums that are due now (their delay has passed) to {@code into}; returns how many references. Without a
     * delay every reference is due once recorded: the slot it is in (which closes up to {@value #SLOT_MS} ms later)
     * is taken too. It was left for the next flush, so a SIGKILL lost up to a slot more than COUNT_FLUSH_MS of
     * traffic (678 retrievals in the last second before a kill, 715 lost).
     */
    long takeDue(LongLongMap into) {
        return take(delayMs == 0 ? Long.MAX_VALUE : Math.floorDiv(clock.getAsLong(), SLOT_MS), into);
    }

    /**
     * Adds every sum, due or not, to {@code into}; returns how many references. At shutdown the seed's demonstration
     * delay gives way to not losing counts.
     */
    long takeAll(LongLongMap into) {
        return take(Long.MAX_VALUE, into);
    }

    private long take(long lastSlot, LongLongMap into) {
        long taken = 0;
        var emptied = new ArrayList<LongLongMap>();
        int largest = 0;
        for (var entry = slots.firstEntry(); entry != null && entry.getKey() <= lastSlot; entry = slots.firstEntry()) {
            if (slots.remove(entry.getKey(), entry.getValue())) {
                Slot slot = entry.getValue();
                LongLongMap sums = slot.seal();
                taken += slot.total();
                into.addAll(sums);
                largest = Math.max(largest, sums.size());
                emptied.add(sums);
            }
        }
        // Each map is kept sized for the largest slot taken, not for its own: without a delay the slot still open is
        // taken with a few references in it, and its map, cut down to them, grew again as the next slot filled
        // (1M-uniform bench: ~4 dead 128 KB arrays a second in the old generation).
        for (LongLongMap sums : emptied) {
            sums.clear(largest);
            spares.offer(sums);
        }
        return taken;
    }

    /** References recorded and not yet taken by the flusher. */
    public long pending() {
        return slots.values().stream().mapToLong(Slot::total).sum();
    }

    /** Bytes held by the sums not yet taken, and by the emptied maps kept for new slots. */
    public long bytes() {
        return slots.values().stream().mapToLong(Slot::bytes).sum()
                + spares.stream().mapToLong(LongLongMap::bytes).sum();
    }

    private static final class Slot {
        private LongLongMap sums;
        private long total;
        private boolean sealed;

        Slot(LongLongMap spare) {
            sums = spare == null ? new LongLongMap() : spare;
        }

        synchronized boolean add(long robotId) {
            if (sealed) {
                return false;
            }
            sums.add(robotId, 1);
            total++;
            return true;
        }

        /** Closes the slot to recorders and hands its map over: the slot keeps no hold on it. */
        synchronized LongLongMap seal() {
            sealed = true;
            LongLongMap handed = sums;
            sums = null;
            return handed;
        }

        synchronized long total() {
            return total;
        }

        synchronized long bytes() {
            return sealed ? 0 : sums.bytes();
        }
    }
}
