package dev.robots.robots;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.Eventually;
import dev.robots.RunningService;
import dev.robots.TestDatabase;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A robot's ETag is its version. A hand UPDATE in psql of a column the API shows (a rename, a repair fixed up) left
 * the version as it was, and a client's {@code If-None-Match} with the old ETag got a 304 for a changed robot. The
 * database moves the version itself for such an edit, and only for one: a count-only update (the count flusher's)
 * keeps the ETag. PostgreSQL only: the embedded database takes no hand edits while the service runs.
 */
class HandEditsMoveTheEtagTest {

    @Test
    void a_hand_edit_of_a_shown_column_moves_the_etag_and_a_count_update_does_not() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var service = RunningService.start(database)) {
            long id = service.create("R2-D2");
            String etag = etag(service.get("/v1/robots/" + id));

            for (String edit : List.of("name = 'Artoo'", "repairs = repairs + 1", "repaired_at = now()",
                    "created_at = created_at - interval '1 day'")) {
                sql(database, "UPDATE robots SET " + edit + " WHERE id = " + id);
                String before = etag;
                // The read cache hears of the edit a moment after its commit.
                var changed = Eventually.eventually(Duration.ofSeconds(5), () -> conditional(service, id, before),
                        answer -> answer.statusCode() == 200);
                etag = etag(changed);
                assertThat(etag).as("ETag after a hand edit of %s", edit).isNotEqualTo(before);
            }
            assertThat(new JsonObject(service.get("/v1/robots/" + id).body()).getString("name")).isEqualTo("Artoo");

            // A statement that sets version itself is left alone.
            sql(database, "UPDATE robots SET name = 'R2', version = 41 WHERE id = " + id);
            Eventually.eventually(Duration.ofSeconds(5), () -> service.get("/v1/robots/" + id),
                    answer -> etag(answer).equals("\"41\""));

            sql(database, "UPDATE robots SET count = count + 5 WHERE id = " + id);
            sql(database, "UPDATE robots SET name = name WHERE id = " + id);
            assertThat(conditional(service, id, "\"41\"").statusCode()).isEqualTo(304);
            try (Connection c = database.connect(); var rows = c.createStatement()
                    .executeQuery("SELECT version FROM robots WHERE id = " + id)) {
                rows.next();
                assertThat(rows.getLong(1)).isEqualTo(41);
            }
        }
    }

    private static HttpResponse<String> conditional(RunningService service, long id, String etag) {
        return service.send(service.request("GET", "/v1/robots/" + id, null, null).header("If-None-Match", etag));
    }

    private static String etag(HttpResponse<String> answer) {
        return answer.headers().firstValue("ETag").orElseThrow();
    }

    private static void sql(TestDatabase database, String statement) throws Exception {
        try (Connection c = database.connect(); var update = c.createStatement()) {
            update.executeUpdate(statement);
        }
    }
}
