package dev.robots.robots;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.LogCapture;
import dev.robots.RunningService;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.util.logging.Level;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Robots inserted by hand with explicit ids the id sequence has not reached yet (a data fix, a copy from another
 * database): the sequence hands those ids out again, and a create answered 500 with a SEVERE log (duplicate key on
 * robots_pkey). A create passes over a taken id for the next one; past {@link RobotService#ID_TRIES} taken ids it
 * answers a 503 (nothing created) and the next create gets further.
 */
class HandInsertedIdsTest {

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgresql"})
    void a_create_passes_over_ids_taken_by_hand(String kind) throws Exception {
        try (var service = RunningService.startOnFresh(kind, java.util.Map.of());
                var logs = new LogCapture(Level.SEVERE)) {
            long first = service.create("R2-D2");
            insertByHand(service, first + 1, first + 3);

            var created = service.sendJson("POST", "/v1/robots", "{\"name\": \"C-3PO\"}");
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(new JsonObject(created.body()).getLong("id")).isEqualTo(first + 4);
            assertThat(service.get("/v1/robots/" + (first + 4)).body()).contains("C-3PO");
            assertThat(logs.lines()).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgresql"})
    void a_create_that_finds_too_many_ids_taken_is_a_503_and_the_next_gets_further(String kind) throws Exception {
        try (var service = RunningService.startOnFresh(kind, java.util.Map.of());
                var logs = new LogCapture(Level.SEVERE)) {
            long first = service.create("R2-D2");
            insertByHand(service, first + 1, first + RobotService.ID_TRIES + 2);

            var refused = service.sendJson("POST", "/v1/robots", "{\"name\": \"C-3PO\"}");
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).isPresent();
            assertThat(service.get("/v1/robots?limit=500").body()).doesNotContain("C-3PO");

            var created = service.sendJson("POST", "/v1/robots", "{\"name\": \"C-3PO\"}");
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(new JsonObject(created.body()).getLong("id")).isEqualTo(first + RobotService.ID_TRIES + 3);
            assertThat(logs.lines()).isEmpty();
        }
    }

    /** Robots {@code from} to {@code to}, inserted with their ids as an operator would in psql. */
    private static void insertByHand(RunningService service, long from, long to) throws Exception {
        try (Connection c = service.database().connect();
                var insert = c.prepareStatement("INSERT INTO robots (id, name) VALUES (?, 'by hand')")) {
            for (long id = from; id <= to; id++) {
                insert.setLong(1, id);
                insert.executeUpdate();
            }
        }
    }
}
