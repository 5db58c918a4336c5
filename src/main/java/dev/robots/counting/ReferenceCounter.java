package dev.robots.counting;

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
 */
public final class ReferenceCounter {
    static final long SLOT_MS = 100;

    private final ConcurrentSkipListMap<Long, Slot> slots = new ConcurrentSkipListMap<>();
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
        boolean recorded;
        do {
            recorded = slots.computeIfAbsent(slot, key -> new Slot()).add(robotId);
        } while (!recorded);
    }

    /** Takes the sums that are due now (their delay has passed). */
    LongLongMap takeDue() {
        return take(Math.floorDiv(clock.getAsLong(), SLOT_MS));
    }

    /** Takes every sum, due or not: at shutdown the seed's demonstration delay gives way to not losing counts. */
    LongLongMap takeAll() {
        return take(Long.MAX_VALUE);
    }

    private LongLongMap take(long lastSlot) {
        var sums = new LongLongMap();
        for (var entry = slots.firstEntry(); entry != null && entry.getKey() <= lastSlot; entry = slots.firstEntry()) {
            if (slots.remove(entry.getKey(), entry.getValue())) {
                sums.addAll(entry.getValue().seal());
            }
        }
        return sums;
    }

    /** References recorded and not yet taken by the flusher. */
    public long pending() {
        return slots.values().stream().mapToLong(Slot::total).sum();
    }

    /** Bytes held by the sums not yet taken. */
    public long bytes() {
        return slots.values().stream().mapToLong(Slot::bytes).sum();
    }

    private static final class Slot {
        private final LongLongMap sums = new LongLongMap();
        private boolean sealed;

        synchronized boolean add(long robotId) {
            if (sealed) {
                return false;
            }
            sums.add(robotId, 1);
            return true;
        }

        synchronized LongLongMap seal() {
            sealed = true;
            return sums;
        }

        synchronized long total() {
            return sums.total();
        }

        synchronized long bytes() {
            return sums.bytes();
        }
    }
}
