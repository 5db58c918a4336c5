package dev.robots.counting;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LongLongMapTest {

    @Test
    void a_cleared_map_is_empty_and_sums_afresh() {
        var map = new LongLongMap();
        for (long id = 1; id <= 1_000; id++) {
            map.add(id, id);
        }
        long bytes = map.bytes();
        map.clear();

        assertThat(map.isEmpty()).isTrue();
        assertThat(map.get(7)).isZero();
        assertThat(map.total()).isZero();
        assertThat(map.bytes()).as("arrays kept for the next interval").isEqualTo(bytes);
        map.add(7, 2);
        map.add(7, 3);
        map.add(1_001, 1);
        assertThat(map.toMap()).isEqualTo(Map.of(7L, 5L, 1_001L, 1L));
    }

    @Test
    void a_map_that_held_a_burst_gives_its_memory_back_when_cleared_with_little_in_it() {
        var map = new LongLongMap();
        for (long id = 1; id <= 100_000; id++) {
            map.add(id, 1);
        }
        map.clear(); // held 100,000: the arrays stay
        long burst = map.bytes();
        map.add(1, 1);
        map.clear(); // held 1: far too large now

        assertThat(map.bytes()).isLessThan(burst / 1_000);
        map.add(3, 4);
        assertThat(map.toMap()).isEqualTo(Map.of(3L, 4L));
    }
}
