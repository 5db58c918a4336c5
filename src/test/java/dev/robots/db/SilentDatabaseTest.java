package dev.robots.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.LogCapture;
import dev.robots.RunningService;
import dev.robots.TcpProxy;
import dev.robots.TestDatabase;
import java.net.URI;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * A database that accepts connections and never answers (a frozen server, a proxy that holds the bytes): with a
 * request deadline longer than the pool's wait ({@code DB_TIMEOUT_MS}), the pool's own timeout ends the request.
 * Every route answers it alike, 503 with Retry-After and no SEVERE log: the create and the repair answered 500 and
 * logged "Unexpected failure" (the pool's bare "Timeout"), while PATCH and GET answered 503. None of the writes
 * happened, which the 503 says.
 */
class SilentDatabaseTest {

    @Test
    void every_route_answers_a_silent_database_with_a_503_and_retry_after() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var proxy = new TcpProxy(URI.create(TestDatabase.ADMIN_URL).getPort())) {
            String viaProxy = database.url().replaceFirst(":\\d+/", ":" + proxy.port() + "/");
            long id;
            try (var service = RunningService.start(database, Map.of("DATABASE_URL", viaProxy,
                    "REQUEST_TIMEOUT_MS", "20000", "DB_TIMEOUT_MS", "1000", "DB_SOCKET_TIMEOUT_MS", "2000"));
                    var logs = new LogCapture(Level.SEVERE)) {
                // Made beside the service, so that the requests below are the first to need a connection of its
                // request pools: each one waits for a login that never answers.
                try (Connection c = database.connect(); var statement = c.createStatement()) {
                    var rows = statement.executeQuery("INSERT INTO robots (name) VALUES ('R2-D2') RETURNING id");
                    rows.next();
                    id = rows.getLong(1);
                }
                proxy.blackhole();
                List<HttpResponse<String>> answers = List.of(
                        service.sendJson("POST", "/v1/robots", "{\"name\": \"unborn\"}"),
                        service.send("POST", "/v1/robots/" + id + "/repair", null, null),
                        service.sendJson("PATCH", "/v1/robots/" + id, "{\"name\": \"C-3PO\"}"),
                        service.send("DELETE", "/v1/robots/" + id, null, null),
                        service.get("/v1/robots/" + id),
                        service.sendJson("POST", "/v1/robots", "{\"name\": \"unborn\"}"),
                        service.send("POST", "/v1/robots/" + id + "/repair", null, null));
                for (var answer : answers) {
                    assertThat(answer.statusCode()).as(answer.request() + ": " + answer.body()).isEqualTo(503);
                    assertThat(answer.headers().firstValue("Retry-After")).isPresent();
                }
                assertThat(logs.lines()).isEmpty();
            }
            try (Connection c = database.connect(); var statement = c.createStatement()) {
                var rows = statement.executeQuery("SELECT (SELECT count(*) FROM robots WHERE name = 'R2-D2'), "
                        + "(SELECT count(*) FROM robots), (SELECT count(*) FROM repairs)");
                rows.next();
                assertThat(List.of(rows.getLong(1), rows.getLong(2), rows.getLong(3))).containsExactly(1L, 1L, 0L);
            }
        }
    }
}
