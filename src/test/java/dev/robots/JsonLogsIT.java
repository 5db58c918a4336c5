package dev.robots;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** With LOG_FORMAT=json, everything the process writes is a Cloud Logging entry, from start to exit. */
class JsonLogsIT {

    @Test
    void every_line_is_json_with_severity_and_message_and_requests_carry_their_trace() throws Exception {
        var data = Files.createTempDirectory("robots-json-logs-");
        try (var jar = JarProcess.start(Map.of("DATA_DIR", data.toString(), "LOG_FORMAT", "json",
                "GOOGLE_CLOUD_PROJECT", "test-project"))) {
            var http = HttpClient.newHttpClient();
            http.send(HttpRequest.newBuilder(jar.uri("/v1/robots/1"))
                    .header("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/1;o=1").build(),
                    HttpResponse.BodyHandlers.discarding());
            http.send(HttpRequest.newBuilder(jar.uri("/healthz"))
                    .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").build(),
                    HttpResponse.BodyHandlers.discarding());
            // A trace id of zeros names no trace (W3C: invalid), in either header.
            http.send(HttpRequest.newBuilder(jar.uri("/healthz"))
                    .header("X-Cloud-Trace-Context", "0".repeat(32) + "/1;o=1")
                    .header("traceparent", "00-" + "0".repeat(32) + "-00f067aa0ba902b7-01").build(),
                    HttpResponse.BodyHandlers.discarding());
            // Not sampled, its span the largest 64-bit number; then a span of more than 64 bits names none.
            http.send(HttpRequest.newBuilder(jar.uri("/healthz"))
                    .header("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/18446744073709551615;o=0")
                    .build(), HttpResponse.BodyHandlers.discarding());
            http.send(HttpRequest.newBuilder(jar.uri("/healthz"))
                    .header("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/18446744073709551616")
                    .build(), HttpResponse.BodyHandlers.discarding());
            // A span of 21 digits, or not a number: no span, the trace and its flag still hold.
            for (String span : List.of("123456789012345678901", "abc")) {
                http.send(HttpRequest.newBuilder(jar.uri("/healthz"))
                        .header("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/" + span + ";o=1").build(),
                        HttpResponse.BodyHandlers.discarding());
            }
            // A later version is read by its first 55 characters; spaces around the options do not unset them.
            http.send(HttpRequest.newBuilder(jar.uri("/healthz"))
                    .header("traceparent", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later").build(),
                    HttpResponse.BodyHandlers.discarding());
            http.send(HttpRequest.newBuilder(jar.uri("/healthz"))
                    .header("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/1 ;o=1").build(),
                    HttpResponse.BodyHandlers.discarding());
            // W3C: a parent id of zeros makes the whole traceparent invalid, ignored.
            http.send(HttpRequest.newBuilder(jar.uri("/healthz"))
                    .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01").build(),
                    HttpResponse.BodyHandlers.discarding());
            assertThat(jar.terminate(Duration.ofSeconds(10))).isZero();

            List<JsonObject> entries = jar.output().stream().map(line -> {
                try {
                    return new JsonObject(line);
                } catch (DecodeException e) {
                    throw new AssertionError("not JSON: " + line, e);
                }
            }).toList();
            assertThat(entries).isNotEmpty().allSatisfy(entry -> {
                assertThat(entry.getString("severity")).isIn("DEBUG", "INFO", "WARNING", "ERROR");
                assertThat(entry.getString("message")).isNotBlank();
                assertThat(entry.getString("timestamp")).isNotBlank();
            });
            assertThat(entries).anyMatch(e -> e.getString("message").startsWith("Listening on"))
                    .anyMatch(e -> e.getString("message").equals("Received SIGTERM"));

            var access = entries.stream().filter(e -> e.containsKey("httpRequest")).toList();
            assertThat(access).hasSize(10);
            assertThat(access.get(2).containsKey("logging.googleapis.com/trace")).isFalse();
            assertThat(access.get(9).containsKey("logging.googleapis.com/trace")).isFalse();
            assertThat(access.getFirst().getJsonObject("httpRequest").getMap())
                    .containsEntry("requestMethod", "GET").containsEntry("requestUrl", "/v1/robots/1")
                    .containsEntry("status", 404).containsKeys("latency", "responseSize");
            assertThat(access.getFirst().getString("logging.googleapis.com/trace"))
                    .isEqualTo("projects/test-project/traces/105445aa7843bc8bf206b12000100000");
            assertThat(access.get(1).getString("logging.googleapis.com/trace"))
                    .isEqualTo("projects/test-project/traces/4bf92f3577b34da6a3ce929d0e0e4736");
            // Cloud Logging's span is 16 hex digits: the caller's span, and whether it samples the trace.
            assertThat(access.getFirst().getString("logging.googleapis.com/spanId")).isEqualTo("0000000000000001");
            assertThat(access.getFirst().getBoolean("logging.googleapis.com/trace_sampled")).isTrue();
            assertThat(access.get(1).getString("logging.googleapis.com/spanId")).isEqualTo("00f067aa0ba902b7");
            assertThat(access.get(1).getBoolean("logging.googleapis.com/trace_sampled")).isTrue();
            assertThat(access.get(3).getString("logging.googleapis.com/spanId")).isEqualTo("ffffffffffffffff");
            assertThat(access.get(3).getBoolean("logging.googleapis.com/trace_sampled")).isFalse();
            assertThat(access.get(4).getString("logging.googleapis.com/trace"))
                    .isEqualTo("projects/test-project/traces/105445aa7843bc8bf206b12000100000");
            assertThat(access.get(4).containsKey("logging.googleapis.com/spanId")).isFalse();
            assertThat(access.get(7).getString("logging.googleapis.com/spanId")).isEqualTo("00f067aa0ba902b7");
            assertThat(access.get(7).getString("logging.googleapis.com/trace"))
                    .isEqualTo("projects/test-project/traces/4bf92f3577b34da6a3ce929d0e0e4736");
            assertThat(access.get(8).getBoolean("logging.googleapis.com/trace_sampled")).isTrue();
            assertThat(access.get(8).getString("logging.googleapis.com/spanId")).isEqualTo("0000000000000001");
            for (var entry : access.subList(5, 7)) {
                assertThat(entry.getString("logging.googleapis.com/trace"))
                        .isEqualTo("projects/test-project/traces/105445aa7843bc8bf206b12000100000");
                assertThat(entry.containsKey("logging.googleapis.com/spanId")).isFalse();
                assertThat(entry.getBoolean("logging.googleapis.com/trace_sampled")).isTrue();
            }
        }
    }
}
