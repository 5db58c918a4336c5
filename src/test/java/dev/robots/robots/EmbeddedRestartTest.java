package dev.robots.robots;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import dev.robots.TestDatabase;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** The embedded default keeps its data in DATA_DIR across restarts, counts included. */
class EmbeddedRestartTest {

    @Test
    void robots_and_counts_survive_a_restart() throws InterruptedException {
        var database = TestDatabase.create("h2");
        long id;
        try (var service = RunningService.start(database)) {
            id = service.create("Survivor");
            for (int i = 0; i < 3; i++) {
                assertThat(service.get("/v1/robots/" + id).statusCode()).isEqualTo(200);
            }
        }

        try (var service = RunningService.start(database)) {
            var robot = new JsonObject(service.get("/v1/robots/" + id).body());
            assertThat(robot.getString("name")).isEqualTo("Survivor");
            assertThat(robot.getLong("count")).isEqualTo(3);
            assertThat(service.create("Next")).isGreaterThan(id);
        }
    }
}
