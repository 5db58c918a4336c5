package dev.robots.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.LogCapture;
import dev.robots.RunningService;
import dev.robots.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Level;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Flyway runs when the schema is behind this build, and only then. */
class SchemaVersionTest {
    private static final Pattern MIGRATION = Pattern.compile("V(\\d+)__.*\\.sql");

    @Test
    void the_build_knows_its_latest_migration() throws IOException {
        int highest;
        try (Stream<Path> files = Files.walk(Path.of("src/main/resources/db/migration"))) {
            highest = files.map(file -> MIGRATION.matcher(file.getFileName().toString()))
                    .filter(java.util.regex.Matcher::matches)
                    .mapToInt(m -> Integer.parseInt(m.group(1)))
                    .max().orElseThrow();
        }
        assertThat(Database.SCHEMA_VERSION).isEqualTo(highest);
    }

    /** H2 writes the errors it sees to a trace file beside the data: a new database's start must see none. */
    @Test
    void a_new_embedded_database_starts_without_an_error_recorded_beside_it() throws IOException {
        try (var database = TestDatabase.create("h2"); var service = RunningService.start(database)) {
            assertThat(service.get("/v1/robots/1").statusCode()).isEqualTo(404);
            service.create("first");
            Path dataDir = Path.of(database.env().get("DATA_DIR"));
            try (Stream<Path> files = Files.list(dataDir)) {
                assertThat(files.map(file -> file.getFileName().toString())).noneMatch(name -> name.endsWith(".trace.db"));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgresql"})
    void a_new_database_is_migrated_and_a_second_start_does_not_run_flyway(String kind) {
        try (var database = TestDatabase.create(kind)) {
            try (var logs = new LogCapture(Level.INFO); var first = RunningService.start(database)) {
                assertThat(logs.lines()).anyMatch(line -> line.contains("migrations applied now"));
                first.create("kept");
            }
            try (var logs = new LogCapture(Level.INFO); var second = RunningService.start(database)) {
                assertThat(logs.lines()).anyMatch(line -> line.contains("Schema at version %d, this build's latest"
                        .formatted(Database.SCHEMA_VERSION)));
                assertThat(logs.lines()).noneMatch(line -> line.contains("migrations applied now"));
                assertThat(second.get("/v1/robots/1").statusCode()).isEqualTo(200);
            }
        }
    }
}
