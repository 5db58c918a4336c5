package dev.robots.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.robots.LogCapture;
import dev.robots.RunningService;
import dev.robots.TestDatabase;
import dev.robots.config.ConfigurationError;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * Without API_TOKENS or API_TOKENS_FILE, a local run (embedded database) takes its write token from
 * DATA_DIR/api-token, made owner-only on the first start and kept after; the log says where it is, never what it is.
 * On PostgreSQL no token is made and writes are refused.
 */
class LocalTokenFileTest {
    private static final Map<String, String> NO_TOKENS = Map.of("API_TOKENS", "", "ACCESS_LOG", "true");

    private static HttpResponse<String> create(RunningService service, String token) {
        var request = service.request("POST", "/v1/robots", "application/json", "{\"name\": \"R2-D2\"}");
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return service.send(request);
    }

    private static Path tokenFile(TestDatabase database) {
        return Path.of(database.env().get("DATA_DIR")).toAbsolutePath().normalize().resolve("api-token");
    }

    @Test
    void the_first_start_makes_an_owner_only_token_file_that_works_and_is_never_logged() throws Exception {
        try (var database = TestDatabase.create("h2"); var logs = new LogCapture(Level.ALL)) {
            Path file = tokenFile(database);
            String token;
            try (var service = RunningService.start(database, NO_TOKENS)) {
                assertThat(file).exists();
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
                token = Files.readString(file).strip();
                assertThat(token).matches("[A-Za-z0-9_-]{43}");
                assertThat(create(service, token).statusCode()).isEqualTo(201);
                assertThat(create(service, RunningService.TOKEN).statusCode()).isEqualTo(401);
                assertThat(create(service, token + "x").statusCode()).isEqualTo(401);
                assertThat(create(service, null).statusCode()).isEqualTo(401);
            }
            // No temporary file left beside it.
            try (var names = Files.list(file.getParent())) {
                assertThat(names.map(p -> p.getFileName().toString())).noneMatch(name -> name.contains("api-token-"));
            }

            // A restart keeps the file and its token: a developer's shell that read it keeps working.
            try (var service = RunningService.start(database, NO_TOKENS)) {
                assertThat(Files.readString(file).strip()).isEqualTo(token);
                assertThat(create(service, token).statusCode()).isEqualTo(201);
            }

            List<String> lines = logs.lines();
            assertThat(lines).noneMatch(line -> line.contains(token));
            var notices = lines.stream().filter(line -> line.contains("Neither API_TOKENS nor API_TOKENS_FILE")).toList();
            assertThat(notices).hasSize(2).allMatch(line -> line.contains(file.toString())
                    && line.contains("Authorization: Bearer $(cat '" + file + "')"));
            assertThat(notices.get(0)).contains("made now");
            assertThat(notices.get(1)).contains("kept from an earlier start");
        }
    }

    @Test
    void a_token_file_already_there_is_used_and_never_overwritten() throws Exception {
        try (var database = TestDatabase.create("h2"); var logs = new LogCapture(Level.ALL)) {
            Path file = tokenFile(database);
            Files.createDirectories(file.getParent());
            String content = "# mine\nmy-own-token-0123456789\n";
            Files.writeString(file, content);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            try (var service = RunningService.start(database, NO_TOKENS)) {
                assertThat(create(service, "my-own-token-0123456789").statusCode()).isEqualTo(201);
            }
            assertThat(Files.readString(file)).isEqualTo(content);
            assertThat(logs.lines()).noneMatch(line -> line.contains("my-own-token"));
        }
    }

    @Test
    void a_token_file_that_others_may_read_or_that_holds_no_token_stops_the_start_untouched() throws Exception {
        try (var database = TestDatabase.create("h2"); var logs = new LogCapture(Level.ALL)) {
            Path file = tokenFile(database);
            Files.createDirectories(file.getParent());
            Files.writeString(file, "shared-token-0123456789\n");
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
            assertThat(catchThrowable(() -> RunningService.start(database, NO_TOKENS)))
                    .isInstanceOf(ConfigurationError.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("others may read it: rw-r--r--")
                    .hasMessageContaining("delete it to have a new one made, or set API_TOKENS or API_TOKENS_FILE")
                    .hasMessageNotContaining("shared-token");
            assertThat(Files.readString(file)).isEqualTo("shared-token-0123456789\n");

            Files.writeString(file, "\n");
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            assertThat(catchThrowable(() -> RunningService.start(database, NO_TOKENS)))
                    .isInstanceOf(ConfigurationError.class).hasMessageContaining("holds no token")
                    .hasMessageContaining("delete it to have a new one made");
            assertThat(Files.readString(file)).isEqualTo("\n");
            assertThat(logs.lines()).noneMatch(line -> line.contains("shared-token"));
        }
    }

    @Test
    void on_postgresql_no_token_is_made_and_writes_are_refused() throws Exception {
        try (var logs = new LogCapture(Level.ALL);
                var service = RunningService.startOnFresh("postgresql", NO_TOKENS)) {
            assertThat(create(service, RunningService.TOKEN).statusCode()).isEqualTo(401);
            assertThat(create(service, null).statusCode()).isEqualTo(401);
            assertThat(service.get("/v1/robots").statusCode()).isEqualTo(200);
            assertThat(logs.lines()).anyMatch(line -> line.contains("every write is refused"));
        }
    }
}
