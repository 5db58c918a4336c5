package dev.robots.counting;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.Load;
import dev.robots.LogCapture;
import dev.robots.RunningService;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every 200 of GET /v1/robots/{id} counts exactly one reference; nothing else counts. Run on each database. */
abstract class CountingContract {
    private final String kind;
    /** Each test's own: a fresh database and service. */
    @RegisterExtension
    final RunningService service;

    CountingContract(String kind) {
        this.kind = kind;
        service = RunningService.onFresh(kind, Map.of("COUNT_FLUSH_MS", "50"));
    }

    @Test
    void thousands_of_concurrent_gets_are_each_counted_once() throws Exception {
        var ids = new ArrayList<Long>();
        for (int i = 0; i < 10; i++) {
            ids.add(service.create("counted-" + i));
        }
        var targets = new ArrayList<>(ids);
        targets.add(999_999_999L); // a missing robot: 404s count nothing

        var load = new Load().run(List.of(service.uri("/")), targets, 5_000, 64);

        assertThat(load.failures()).isZero();
        assertThat(load.status(404)).isEqualTo(load.sent(999_999_999L));
        for (long id : ids) {
            assertThat(load.ok(id)).isPositive();
            assertThat(service.flushedCount(id)).as("robot %d", id).isEqualTo(load.ok(id));
        }
    }

    @Test
    void lists_errors_and_other_routes_count_nothing() throws Exception {
        long id = service.create("quiet");
        service.get("/v1/robots");
        service.get("/v1/robots?limit=1&after=" + (id - 1));
        service.sendJson("PATCH", "/v1/robots/" + id, "{\"name\": \"still quiet\"}");
        service.send("POST", "/v1/robots/" + id + "/repair", null, null);
        service.get("/v1/robots/" + id + "x");

        assertThat(service.flushedCount(id)).isZero();
    }

    @Test
    void a_get_returns_what_the_database_held_and_the_count_follows_after_the_flush() throws Exception {
        long id = service.create("watched");
        var first = new JsonObject(service.get("/v1/robots/" + id).body());
        assertThat(first.getLong("count")).isZero();

        assertThat(service.flushedCount(id)).isEqualTo(1);
    }

    @Test
    void references_to_a_deleted_robot_are_dropped_and_the_others_in_the_same_flush_are_written() throws Exception {
        // An instance of its own (on a database of its own: the embedded one admits one process), whose long flush
        // interval leaves both references pending until its final flush.
        try (var logs = new LogCapture();
                var slow = RunningService.startOnFresh(kind, Map.of("COUNT_FLUSH_MS", "60000"))) {
            long gone;
            long kept;
            try {
                gone = slow.create("short-lived");
                kept = slow.create("survivor");
                slow.get("/v1/robots/" + gone);
                slow.get("/v1/robots/" + kept);
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (slow.app().pendingReferences() < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(10); // the reference is recorded just after the response is written
                }
                assertThat(slow.app().pendingReferences()).isEqualTo(2);
                assertThat(slow.send("DELETE", "/v1/robots/" + gone, null, null).statusCode()).isEqualTo(204);
            } finally {
                slow.stop(); // throws if the final flush could not write what it held
            }
            assertThat(slow.app().pendingReferences()).isZero();
            try (Connection c = slow.database().connect();
                    var rows = c.createStatement().executeQuery("SELECT id, count FROM robots ORDER BY id")) {
                var counts = new java.util.TreeMap<Long, Long>();
                while (rows.next()) {
                    counts.put(rows.getLong(1), rows.getLong(2));
                }
                // The deleted robot stays deleted, and the flush that held its reference still wrote the other.
                assertThat(counts).containsExactly(Map.entry(kept, 1L));
            }
            // No flush failed or was retried on the way (other instances in this JVM may log what they like).
            assertThat(logs.lines()).noneMatch(line -> line.toLowerCase(java.util.Locale.ROOT).contains("flush"));
        }
    }
}
