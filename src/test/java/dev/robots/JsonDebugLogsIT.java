package dev.robots;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Breaker finding: on Cloud Run (K_SERVICE set, so LOG_FORMAT=json) an operator who turns LOG_LEVEL up to debug to
 * look into an incident must get a service that starts, not a crash loop. On main the JSON formatter initialises
 * Vert.x's Json codec while Vert.x's own logger factory is initialising and logging at debug, and the start fails
 * with an ExceptionInInitializerError.
 */
class JsonDebugLogsIT {

    @Test
    void json_logs_at_debug_start_and_stay_json() throws Exception {
        var data = Files.createTempDirectory("robots-json-debug-");
        try (var jar = JarProcess.start(Map.of("DATA_DIR", data.toString(), "LOG_FORMAT", "json",
                "LOG_LEVEL", "debug"))) {
            var status = HttpClient.newHttpClient().send(HttpRequest.newBuilder(jar.uri("/healthz")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
            assertThat(status).isEqualTo(200);
            assertThat(jar.terminate(Duration.ofSeconds(10))).isZero();
            assertThat(jar.output()).isNotEmpty().allSatisfy(line -> assertThat(new JsonObject(line)).isNotNull());
        }
    }
}
