package dev.robots.counting;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.Load;
import dev.robots.LogCapture;
import dev.robots.RunningService;
import dev.robots.TestDatabase;
import java.util.ArrayList;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Three instances, each with its own pool and flusher, on one PostgreSQL database. */
class MultiInstanceCountingTest {

    @Test
    void three_instances_under_concurrent_load_count_exactly_without_deadlocks() throws Exception {
        try (var database = TestDatabase.create("postgresql"); var logs = new LogCapture()) {
            var services = new ArrayList<RunningService>();
            try {
                for (int i = 0; i < 3; i++) {
                    // Short flush intervals make the three flushers overlap as often as possible.
                    services.add(RunningService.start(database, Map.of("COUNT_FLUSH_MS", "20", "DB_POOL_SIZE", "4")));
                }
                var ids = new ArrayList<Long>();
                for (int i = 0; i < 8; i++) {
                    ids.add(services.getFirst().create("shared-" + i));
                }

                var load = new Load().run(services.stream().map(s -> s.uri("/")).toList(), ids, 9_000, 48);

                assertThat(load.failures()).isZero();
                assertThat(load.ok()).isEqualTo(9_000);
                for (var service : services) {
                    service.awaitFlushed();
                }
                for (long id : ids) {
                    assertThat(services.get(1).flushedCount(id)).as("robot %d", id).isEqualTo(load.ok(id));
                }
            } finally {
                services.forEach(RunningService::stop);
            }
            // Three services in one JVM share Vert.x's metrics registry, and Micrometer warns once per JVM that the
            // second pool's gauge is already there (one service per JVM in production): whichever test starts a
            // second service first gets that line, so it is not this test's to judge. Nothing else may warn.
            assertThat(logs.lines()).noneMatch(line -> line.toLowerCase().contains("deadlock"))
                    .filteredOn(line -> !line.contains("Gauge has been already registered")).isEmpty();
        }
    }
}
