package dev.robots;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** LOG_LEVEL reaches the packaged service's loggers: quieter for all, louder for the one asked about. */
class LogLevelIT {
    @Test
    void the_root_level_and_a_loggers_own_level_both_apply() throws Exception {
        var data = Files.createTempDirectory("robots-log-level-");
        // Application stays at info, as JarProcess waits for its "Listening on" line.
        try (var jar = JarProcess.start(Map.of("DATA_DIR", data.toString(),
                "LOG_LEVEL", "warn,dev.robots.db=debug,dev.robots.Application=info"))) {
            assertThat(jar.terminate(Duration.ofSeconds(10))).isZero();

            assertThat(jar.output())
                    // FINE, from dev.robots.db.Database on a new database: shown, as its package is at debug
                    .anyMatch(line -> line.contains("No schema history to read"))
                    // INFO, from dev.robots.Main: hidden, as the root is at warn
                    .noneMatch(line -> line.contains("Received SIGTERM"));
        }
    }

    /**
     * Why the process exits 1 is written whatever LOG_LEVEL says: under {@code off}, a start that failed on the
     * database (one that does not exist) exited 1 with no output at all.
     */
    @Test
    void a_failed_start_says_why_even_with_logging_off() throws Exception {
        var admin = java.net.URI.create(TestDatabase.ADMIN_URL);
        try (var jar = JarProcess.launch(Map.of("LOG_LEVEL", "off", "DATABASE_URL",
                "postgresql://postgres@%s:%d/robots_no_such_database".formatted(admin.getHost(), admin.getPort())))) {
            assertThat(jar.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(jar.process().exitValue()).isEqualTo(1);
            assertThat(jar.output()).hasSize(1).first().asString()
                    .contains("Could not start: DATABASE_URL").contains("robots_no_such_database");
        }
    }
}
