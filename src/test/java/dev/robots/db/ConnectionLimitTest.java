package dev.robots.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.LogCapture;
import dev.robots.RunningService;
import dev.robots.TestDatabase;
import io.vertx.pgclient.PgException;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL refusing connections for want of resources (SQLSTATE class 53, here too_many_connections: all the
 * instances' pools together past max_connections) is the database being unavailable: 503 with Retry-After and a
 * throttled warning, never a 500 and a SEVERE log.
 */
class ConnectionLimitTest {

    @Test
    void too_many_connections_is_a_503_with_retry_after_and_no_severe_log() throws Exception {
        // Superusers pass every connection limit, so the service logs in as a role of its own that has one.
        String role = "robots_limited_" + ProcessHandle.current().pid();
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql")) {
            String databaseName = database.url().substring(database.url().lastIndexOf('/') + 1);
            admin("DROP ROLE IF EXISTS " + role);
            admin("CREATE ROLE " + role + " LOGIN");
            try {
                admin("ALTER DATABASE " + databaseName + " OWNER TO " + role);
                String asRole = database.url().replaceFirst("://[^@/]*@", "://" + role + "@");
                try (var service = RunningService.start(database, Map.of("DATABASE_URL", asRole, "CACHE_MB", "0"));
                        var logs = new LogCapture(Level.SEVERE)) {
                    service.create("R2-D2");
                    // No new connection for the role from now on, and the ones it has are gone.
                    admin("ALTER ROLE " + role + " CONNECTION LIMIT 0");
                    admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role + "'");

                    int unavailable = 0;
                    for (int i = 0; i < 20; i++) {
                        HttpResponse<String> response = service.get("/v1/robots");
                        assertThat(response.statusCode()).as(response.body()).isIn(200, 503);
                        if (response.statusCode() == 503) {
                            unavailable++;
                            assertThat(response.headers().firstValue("Retry-After")).isPresent();
                            assertThat(response.headers().firstValue("Content-Type"))
                                    .hasValue("application/problem+json");
                        }
                    }
                    assertThat(unavailable).isPositive();
                    assertThat(logs.lines()).isEmpty();
                    admin("ALTER ROLE " + role + " CONNECTION LIMIT -1");
                }
            } finally {
                database.close();
                admin("DROP ROLE IF EXISTS " + role);
            }
        }
    }

    /**
     * A database that accepts no new connections ({@code ALTER DATABASE ... ALLOW_CONNECTIONS false}, as before a
     * maintenance; PostgreSQL refuses the login with a FATAL of SQLSTATE 55000) is unavailable too: it was a 500 to
     * every request that needed a connection, each logged SEVERE with a stack trace.
     */
    @Test
    void a_database_that_accepts_no_connections_is_a_503_with_retry_after_and_no_severe_log() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql")) {
            String databaseName = database.url().substring(database.url().lastIndexOf('/') + 1);
            try (var service = RunningService.start(database, Map.of("CACHE_MB", "0"));
                    var logs = new LogCapture(Level.SEVERE)) {
                long id = service.create("R2-D2");
                admin("ALTER DATABASE " + databaseName + " ALLOW_CONNECTIONS false");
                try {
                    admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + databaseName
                            + "'");
                    int unavailable = 0;
                    for (int i = 0; i < 10; i++) {
                        for (var response : new HttpResponse[] {service.get("/v1/robots"),
                                service.get("/v1/robots/" + id),
                                service.sendJson("POST", "/v1/robots", "{\"name\": \"C-3PO\"}")}) {
                            assertThat(response.statusCode()).as(String.valueOf(response.body())).isEqualTo(503);
                            assertThat(response.headers().firstValue("Retry-After")).isPresent();
                            unavailable++;
                        }
                    }
                    assertThat(unavailable).isEqualTo(30);
                    assertThat(logs.lines()).isEmpty();
                } finally {
                    admin("ALTER DATABASE " + databaseName + " ALLOW_CONNECTIONS true");
                }
            }
        }
    }

    /**
     * A database that takes no writes (a standby reached during a failover; here {@code default_transaction_read_only}
     * for new sessions) refuses each write's statement with SQLSTATE 25006: nothing was changed, so the answer is 503
     * with Retry-After, while reads go on. Every write was a 500 logged SEVERE.
     */
    @Test
    void a_read_only_database_is_a_503_for_writes_with_retry_after_and_no_severe_log() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql")) {
            String databaseName = database.url().substring(database.url().lastIndexOf('/') + 1);
            try (var service = RunningService.start(database, Map.of("CACHE_MB", "0"));
                    var logs = new LogCapture(Level.SEVERE)) {
                long id = service.create("R2-D2");
                admin("ALTER DATABASE " + databaseName + " SET default_transaction_read_only = on");
                try {
                    admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + databaseName
                            + "'");
                    for (int i = 0; i < 5; i++) {
                        for (var response : new HttpResponse[] {
                                service.sendJson("POST", "/v1/robots", "{\"name\": \"C-3PO\"}"),
                                service.sendJson("PATCH", "/v1/robots/" + id, "{\"name\": \"C-3PO\"}"),
                                service.send("DELETE", "/v1/robots/" + id, null, null)}) {
                            if (response.statusCode() == 503 && response.body().toString().contains("took too long")) {
                                continue; // the terminated connections' replacements were still being made
                            }
                            assertThat(response.statusCode()).as(String.valueOf(response.body())).isEqualTo(503);
                            assertThat(response.headers().firstValue("Retry-After")).isPresent();
                        }
                    }
                    assertThat(service.get("/v1/robots/" + id).statusCode()).isEqualTo(200);
                    assertThat(logs.lines()).isEmpty();
                } finally {
                    admin("ALTER DATABASE " + databaseName + " RESET default_transaction_read_only");
                    // A session keeps the default it started with: the service's connections made meanwhile stay
                    // read-only, and the shutdown's last flush (the GET above was counted) failed on them until
                    // SHUTDOWN_TIMEOUT once in CI. New ones are made read-write.
                    admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + databaseName
                            + "'");
                }
            }
        }
    }

    @Test
    void a_fatal_error_of_any_sqlstate_counts_as_unavailable() {
        for (String state : new String[] {"55000", "3D000", "28P01", "25P03"}) {
            assertThat(Database.isUnavailable(new PgException("gone", "FATAL", state, null))).as(state).isTrue();
        }
        assertThat(Database.isUnavailable(new PgException("bug", "ERROR", "42601", null))).isFalse();
        assertThat(Database.isUnavailable(new PgException("bug", "ERROR", "55000", null))).isFalse();
    }

    @Test
    void sqlstate_class_53_counts_as_unavailable() {
        for (String state : new String[] {"53000", "53100", "53200", "53300", "53400"}) {
            assertThat(Database.isUnavailable(new SQLException("refused", state))).as(state).isTrue();
        }
        assertThat(Database.isUnavailable(new SQLException("bug", "42601"))).isFalse();
    }

    private static void admin(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(TestDatabase.Postgres.jdbc(TestDatabase.ADMIN_URL))) {
            c.createStatement().execute(sql);
        }
    }
}
