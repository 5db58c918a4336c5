package dev.robots;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.DriverManager;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM while a robot's row is held locked (by hand, in another session) past SHUTDOWN_TIMEOUT: the last flush
 * cannot write its count, and the jar says so in one line and exits 1, without a stack trace (an expected outcome).
 */
class ShutdownOutOfTimeIT {
    private static final int SHUTDOWN_TIMEOUT_SECONDS = 3;

    @Test
    void a_shutdown_that_cannot_write_its_counts_in_time_says_how_many_in_one_line_and_exits_1() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var jar = JarProcess.start(Map.of("DATABASE_URL", database.url(), "COUNT_FLUSH_MS", "600000",
                        "SHUTDOWN_TIMEOUT", Integer.toString(SHUTDOWN_TIMEOUT_SECONDS), "ACCESS_LOG", "false",
                        "API_TOKENS", RunningService.TOKEN));
                var lock = database.connect()) {
            long id = jar.createAndRead("held", 3);
            lock.setAutoCommit(false);
            lock.createStatement().execute("SELECT 1 FROM robots WHERE id = " + id + " FOR UPDATE");

            int exitStatus = jar.terminate(Duration.ofSeconds(SHUTDOWN_TIMEOUT_SECONDS + 5));
            lock.rollback();

            var output = jar.output();
            assertThat(exitStatus).as(String.join("\n", output)).isEqualTo(1);
            assertThat(output).anyMatch(line -> line.contains("3 references unwritten"))
                    .noneMatch(line -> line.startsWith("\tat ") || line.contains("Exception"));
        }
    }

    /**
     * SIGTERM while the database refuses every connection: the last flush retries until SHUTDOWN_TIMEOUT and the jar
     * exits 1 saying how many went unwritten; the retries say why once, not in a warning every 100 ms (some 70 lines
     * for one outage, black-box finding).
     */
    @Test
    void a_shutdown_while_the_database_refuses_connections_warns_once_and_exits_1() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var jar = JarProcess.start(Map.of("DATABASE_URL", database.url(), "COUNT_FLUSH_MS", "600000",
                        "SHUTDOWN_TIMEOUT", Integer.toString(SHUTDOWN_TIMEOUT_SECONDS), "ACCESS_LOG", "false",
                        "API_TOKENS", RunningService.TOKEN))) {
            jar.createAndRead("away", 4);
            String name = database.url().substring(database.url().lastIndexOf('/') + 1);
            try (var admin = DriverManager.getConnection(TestDatabase.Postgres.jdbc(TestDatabase.ADMIN_URL))) {
                admin.createStatement().execute("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false");
                admin.createStatement().execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        + "WHERE datname = '" + name + "'");
                int exitStatus;
                try {
                    exitStatus = jar.terminate(Duration.ofSeconds(SHUTDOWN_TIMEOUT_SECONDS + 5));
                } finally {
                    admin.createStatement().execute("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true");
                }
                var output = jar.output();
                assertThat(exitStatus).as(String.join("\n", output)).isEqualTo(1);
                assertThat(output).anyMatch(line -> line.contains("4 references unwritten"));
                assertThat(output.stream().filter(line -> line.contains("WARNING") && line.contains("failed")))
                        .as(String.join("\n", output)).hasSizeBetween(1, 2);
            }
        }
    }
}
