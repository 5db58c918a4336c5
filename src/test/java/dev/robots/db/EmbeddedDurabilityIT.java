package dev.robots.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.JarProcess;
import dev.robots.RunningService;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar on the embedded database: what it acknowledged survives SIGKILL, no id is handed out twice, and a
 * second process on the same DATA_DIR refuses to start.
 */
class EmbeddedDurabilityIT {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static HttpResponse<String> write(JarProcess jar, String method, String path, String body)
            throws Exception {
        return HTTP.send(HttpRequest.newBuilder(jar.uri(path))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + RunningService.TOKEN)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Map<String, String> env(Path dataDir) {
        // A generous request deadline: on a busy machine the first requests after a start may take a while, and a 503
        // would say nothing about what the database kept.
        return Map.of("DATA_DIR", dataDir.toString(), "API_TOKENS", RunningService.TOKEN, "ACCESS_LOG", "false",
                "REQUEST_TIMEOUT_MS", "30000", "DB_TIMEOUT_MS", "30000");
    }

    @Test
    void acknowledged_creates_renames_and_deletes_survive_sigkill_and_no_id_is_given_twice() throws Exception {
        Path dataDir = Files.createTempDirectory("robots-durable-");
        var expected = new TreeMap<Long, String>();
        long highestId = 0;
        try (var jar = JarProcess.start(env(dataDir))) {
            for (int i = 0; i < 12; i++) {
                var created = write(jar, "POST", "/v1/robots", "{\"name\": \"kept-" + i + "\"}");
                assertThat(created.statusCode()).isEqualTo(201);
                long id = new JsonObject(created.body()).getLong("id");
                expected.put(id, "kept-" + i);
                highestId = Math.max(highestId, id);
            }
            for (long id : expected.keySet().stream().limit(4).toList()) {
                assertThat(write(jar, "PATCH", "/v1/robots/" + id, "{\"name\": \"renamed-" + id + "\"}")
                        .statusCode()).isEqualTo(200);
                expected.put(id, "renamed-" + id);
            }
            for (long id : expected.keySet().stream().skip(8).toList()) {
                assertThat(write(jar, "DELETE", "/v1/robots/" + id, null).statusCode()).isEqualTo(204);
                expected.remove(id);
            }
            // At once after the last acknowledgement: nothing gets a chance to write what a commit left behind.
            jar.kill();
        }

        try (var jar = JarProcess.start(env(dataDir))) {
            var page = HTTP.send(HttpRequest.newBuilder(jar.uri("/v1/robots?limit=500")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
            var found = new TreeMap<Long, String>();
            for (Object robot : new JsonObject(page.body()).getJsonArray("robots")) {
                var json = (JsonObject) robot;
                found.put(json.getLong("id"), json.getString("name"));
            }
            assertThat(found).isEqualTo(expected);
            var next = write(jar, "POST", "/v1/robots", "{\"name\": \"after-the-kill\"}");
            assertThat(next.statusCode()).isEqualTo(201);
            assertThat(new JsonObject(next.body()).getLong("id")).isGreaterThan(highestId);
            jar.kill();
        }
    }

    @Test
    void a_second_process_on_the_same_data_dir_refuses_to_start_with_one_line() throws Exception {
        Path dataDir = Files.createTempDirectory("robots-shared-");
        try (var first = JarProcess.start(env(dataDir)); var second = JarProcess.launch(env(dataDir))) {
            assertThat(second.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(second.process().exitValue()).isEqualTo(1);
            var output = second.output();
            assertThat(output).anyMatch(line -> line.contains(
                    "DATA_DIR " + dataDir.toAbsolutePath().normalize() + " is in use by another running instance"));
            assertThat(output).noneMatch(line -> line.startsWith("\tat ") || line.contains("Exception"));
            // The first keeps serving, its data its own.
            assertThat(write(first, "POST", "/v1/robots", "{\"name\": \"still-mine\"}").statusCode()).isEqualTo(201);
            assertThat(first.terminate(Duration.ofSeconds(10))).isZero();
        }
    }
}
