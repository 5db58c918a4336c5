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

    @Test
    void sorted_keys_go_into_the_buffer_given_while_it_fits_and_a_new_one_when_not() {
        var map = new LongLongMap();
        for (long id : new long[] {9, 3, 27, 1}) {
            map.add(id, 1);
        }
        long[] buffer = new long[6];

        long[] sorted = map.sortedKeys(buffer);
        assertThat(sorted).as("reused").isSameAs(buffer);
        assertThat(sorted).startsWith(1, 3, 9, 27);

        for (long id = 100; id < 110; id++) {
            map.add(id, 1);
        }
        long[] grown = map.sortedKeys(buffer);
        assertThat(grown).as("too small: a new one, with room").isNotSameAs(buffer).hasSizeGreaterThan(map.size());
        assertThat(map.sortedKeys(grown)).as("fits now").isSameAs(grown);

        map.clear();
        map.add(5, 1);
        long[] huge = new long[10_000];
        assertThat(map.sortedKeys(huge)).as("a burst's buffer is given back").isNotSameAs(huge).startsWith(5);
        assertThat(map.sortedKeys()).containsExactly(5);
    }
}
