package dev.robots.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.robots.Application;
import dev.robots.Eventually;
import dev.robots.LogCapture;
import dev.robots.RunningService;
import dev.robots.TcpProxy;
import dev.robots.TestDatabase;
import dev.robots.config.Config;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
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

    /**
     * A database silent from the start: the start fails, saying so, rather than hang. It hung for as long as the
     * database stayed silent, with no log line and deaf to SIGTERM (black-box finding): the check and the migration
     * failed in time, but closing Vert.x after them waited for pool connections that never closed.
     */
    @Test
    void a_start_on_a_silent_database_fails_in_bounded_time_and_says_why() throws Exception {
        // Takes every connection and never reads, writes or closes one: a frozen server, as the kernel keeps its
        // sockets (the client's close then stays half done, FIN-WAIT-2, for as long as the server is frozen).
        var held = new java.util.concurrent.CopyOnWriteArrayList<java.net.Socket>();
        try (var silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        held.add(silent.accept());
                    }
                } catch (java.io.IOException closed) {
                    // the test is over
                }
            });
            var env = Map.of("DATABASE_URL", "postgresql://postgres@127.0.0.1:%d/robots".formatted(silent.getLocalPort()),
                    "PORT", "0", "METRICS_PORT", "0", "HOST", "127.0.0.1", "DB_TIMEOUT_MS", "1000",
                    "DB_SOCKET_TIMEOUT_MS", "2000", "API_TOKENS", RunningService.TOKEN);
            Throwable error = assertTimeoutPreemptively(Duration.ofSeconds(60),
                    () -> catchThrowable(() -> Application.start(Config.from(env)).stop()));
            assertThat(error).hasMessageContaining("DATABASE_URL").hasMessageContaining("cannot be reached");
        } finally {
            for (var socket : held) {
                socket.close();
            }
        }
    }

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

    /**
     * The database falls silent while a create's COMMIT is in flight (a trigger at commit keeps it busy long enough
     * for the proxy to start swallowing): the commit happens, its answer never arrives. The answer must not say "try
     * again" (a 503 did, at the deadline): it is a 504 that says the outcome is unknown, without Retry-After, and the
     * Idempotency-Key is kept, so the retry with it, once the database answers again, replays the created robot.
     */
    @Test
    void a_commit_the_database_never_confirms_is_a_504_that_keeps_its_idempotency_key() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var proxy = new TcpProxy(URI.create(TestDatabase.ADMIN_URL).getPort())) {
            String viaProxy = database.url().replaceFirst(":\\d+/", ":" + proxy.port() + "/");
            try (var service = RunningService.start(database, Map.of("DATABASE_URL", viaProxy,
                    "DB_SOCKET_TIMEOUT_MS", "2000"))) {
                try (Connection c = database.connect(); var statement = c.createStatement()) {
                    statement.execute("CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ "
                            + "BEGIN PERFORM pg_sleep(0.6); RETURN NULL; END $$");
                    statement.execute("CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON robots "
                            + "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()");
                }
                var request = service.request("POST", "/v1/robots", "application/json", "{\"name\": \"Schroedinger\"}")
                        .header("Authorization", "Bearer " + RunningService.TOKEN)
                        .header("Idempotency-Key", "unconfirmed");
                try (var client = Executors.newVirtualThreadPerTaskExecutor()) {
                    var answer = client.submit(() -> service.send(request));
                    awaitCommitInFlight(database);
                    proxy.blackhole();
                    var response = answer.get();
                    assertThat(response.statusCode()).as(response.body()).isEqualTo(504);
                    assertThat(response.headers().firstValue("Retry-After")).isEmpty();
                    assertThat(new JsonObject(response.body()).getString("detail")).contains("may or may not");
                }
                proxy.restore();
                var retried = Eventually.eventually(Duration.ofSeconds(20), () -> service.send(request),
                        response -> response.statusCode() != 503);
                assertThat(retried.statusCode()).as(retried.body()).isEqualTo(201);
                assertThat(retried.headers().firstValue("Idempotent-Replayed")).hasValue("true");
            }
            try (Connection c = database.connect(); var statement = c.createStatement()) {
                var rows = statement.executeQuery("SELECT count(*) FROM robots WHERE name = 'Schroedinger'");
                rows.next();
                assertThat(rows.getLong(1)).isOne();
            }
        }
    }

    /**
     * Waits until a session of the service is in the create's COMMIT (the deferred trigger sleeping in it), not the
     * Idempotency-Key's claim, which commits in a transaction of its own just before, at once.
     */
    private static void awaitCommitInFlight(TestDatabase database) throws Exception {
        try (Connection c = database.connect(); var statement = c.createStatement()) {
            for (int i = 0; i < 400; i++) {
                var rows = statement.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        + "current_database() AND state = 'active' AND query ILIKE 'COMMIT%' "
                        + "AND clock_timestamp() - query_start > interval '100 milliseconds'");
                rows.next();
                if (rows.getLong(1) > 0) {
                    return;
                }
                Thread.sleep(5);
            }
        }
        throw new AssertionError("no COMMIT was seen in flight");
    }
}
