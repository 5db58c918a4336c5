package dev.robots.counting;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ReferenceCounterTest {

    @Test
    void references_are_summed_per_robot() {
        var counter = new ReferenceCounter(0, () -> 1_000);
        counter.record(1);
        counter.record(2);
        counter.record(1);

        assertThat(counter.pending()).isEqualTo(3);
        assertThat(due(counter)).isEqualTo(Map.of(1L, 2L, 2L, 1L));
        assertThat(counter.pending()).isZero();
        assertThat(due(counter).isEmpty()).isTrue();
    }

    @Test
    void a_slot_taken_with_a_few_references_keeps_its_map_sized_for_a_full_one() {
        var now = new AtomicLong(10_000);
        var counter = new ReferenceCounter(0, now::get);
        for (long id = 1; id <= 10_000; id++) {
            counter.record(id);
        }
        now.addAndGet(ReferenceCounter.SLOT_MS);
        for (long id = 1; id <= 10_000; id++) {
            counter.record(id);
        }
        due(counter); // two full slots' maps become spares
        long full = counter.bytes();
        now.addAndGet(ReferenceCounter.SLOT_MS);
        for (long id = 1; id <= 10_000; id++) {
            counter.record(id);
        }
        now.addAndGet(ReferenceCounter.SLOT_MS);
        counter.record(1); // the slot still open when the flusher comes: one reference in it

        assertThat(due(counter)).hasSize(10_000);
        assertThat(counter.bytes()).as("both maps kept for the next slots, none cut down to grow again")
                .isEqualTo(full);
    }

    @Test
    void a_delayed_reference_is_due_no_earlier_than_its_delay() {
        var now = new AtomicLong(10_000);
        var counter = new ReferenceCounter(12_000, now::get);
        counter.record(7);

        now.set(21_999);
        assertThat(due(counter).isEmpty()).isTrue();
        now.set(22_000);
        assertThat(due(counter)).isEqualTo(Map.of(7L, 1L));
    }

    @Test
    void without_a_delay_a_reference_is_due_at_once_not_when_its_slot_ends() {
        // Left to the next flush until its 100 ms slot ended, a reference recorded just before a flush was lost
        // with the flush after it on a SIGKILL: more than COUNT_FLUSH_MS of traffic, which README bounds the loss by.
        var now = new AtomicLong(1_001);
        var counter = new ReferenceCounter(0, now::get);
        counter.record(7);

        assertThat(due(counter)).isEqualTo(Map.of(7L, 1L));
    }

    @Test
    void take_all_ignores_the_delay_so_a_shutdown_loses_nothing() {
        var counter = new ReferenceCounter(60_000, () -> 0);
        counter.record(7);

        assertThat(all(counter)).isEqualTo(Map.of(7L, 1L));
    }

    @Test
    void concurrent_recording_and_taking_loses_and_doubles_nothing() throws Exception {
        var counter = new ReferenceCounter(0);
        int threads = 4;
        int perThread = 200_000;
        var taken = new HashMap<Long, Long>();
        var done = new AtomicBoolean();
        try (var pool = Executors.newFixedThreadPool(threads + 1)) {
            var taker = pool.submit(() -> {
                // One map reused for every take, as the flusher does; the slots' maps are reused by new slots.
                var into = new LongLongMap();
                while (!done.get()) {
                    long references = counter.takeAll(into);
                    assertThat(into.total()).isEqualTo(references);
                    into.forEach((id, n) -> taken.merge(id, n, Long::sum));
                    into.clear();
                }
            });
            var recorders = new java.util.ArrayList<java.util.concurrent.Future<?>>();
            for (int t = 0; t < threads; t++) {
                recorders.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        counter.record(1 + i % 5); // robot ids start at 1 (LongLongMap)
                    }
                }));
            }
            try {
                for (var recorder : recorders) {
                    recorder.get();
                }
            } finally {
                done.set(true);
            }
            taker.get();
        }
        all(counter).forEach((id, n) -> taken.merge(id, n, Long::sum));

        assertThat(taken.values().stream().mapToLong(Long::longValue).sum()).isEqualTo((long) threads * perThread);
        assertThat(taken).containsOnlyKeys(1L, 2L, 3L, 4L, 5L);
        assertThat(taken.values()).containsOnly((long) threads * perThread / 5);
    }

    private static Map<Long, Long> due(ReferenceCounter counter) {
        var into = new LongLongMap();
        assertThat(counter.takeDue(into)).isEqualTo(into.total());
        return into.toMap();
    }

    private static Map<Long, Long> all(ReferenceCounter counter) {
        var into = new LongLongMap();
        assertThat(counter.takeAll(into)).isEqualTo(into.total());
        return into.toMap();
    }
}
