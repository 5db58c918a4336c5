package dev.robots;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** DB_POOL_SIZE is the instance's total of request connections, whatever the core count. */
class PoolSizesTest {
    @Test
    void the_sizes_sum_to_the_total_and_differ_by_one_at_most() {
        for (int cores = 1; cores <= 64; cores++) {
            for (int total = 1; total <= 100; total++) {
                int[] sizes = Application.poolSizes(total, cores);
                assertThat(Arrays.stream(sizes).sum()).as("%d on %d cores", total, cores).isEqualTo(total);
                assertThat(sizes.length).isEqualTo(Math.min(total, cores));
                assertThat(Arrays.stream(sizes).max().orElseThrow() - Arrays.stream(sizes).min().orElseThrow())
                        .isLessThanOrEqualTo(1);
                assertThat(Arrays.stream(sizes).min().orElseThrow()).isPositive();
            }
        }
    }

    @Test
    void fewer_connections_than_cores_means_fewer_serving_event_loops() {
        assertThat(Application.poolSizes(8, 16)).containsExactly(1, 1, 1, 1, 1, 1, 1, 1);
        assertThat(Application.poolSizes(8, 2)).containsExactly(4, 4);
        assertThat(Application.poolSizes(9, 2)).containsExactly(5, 4);
        assertThat(Application.poolSizes(1, 2)).containsExactly(1);
    }
}
