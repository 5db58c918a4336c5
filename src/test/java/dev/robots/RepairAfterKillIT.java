package dev.robots;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A repair answered 202 by an instance that is then SIGKILLed before the repair ran is done, exactly once, by the
 * next instance on the same database (the packaged jar, as it ships).
 */
class RepairAfterKillIT {
    private final HttpClient http = HttpClient.newHttpClient();

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgresql"})
    void a_repair_whose_instance_was_killed_before_it_ran_is_done_once_after_a_restart(String kind) throws Exception {
        try (var database = TestDatabase.create(kind)) {
            var env = new HashMap<>(database.env());
            env.put("API_TOKENS", RunningService.TOKEN);
            env.put("ACCESS_LOG", "false");
            // The first instance claims the repair but would take ten minutes to run it; its lease is short, and
            // renewed until the kill.
            var slow = new HashMap<>(env);
            slow.put("REPAIR_DURATION_MS", "600000");
            slow.put("REPAIR_LEASE_MS", "1000");

            long robot;
            String location;
            try (var doomed = JarProcess.start(slow)) {
                robot = new JsonObject(send(doomed.uri("/v1/robots"), "{\"name\": \"survivor\"}").body()).getLong("id");
                var accepted = send(doomed.uri("/v1/robots/" + robot + "/repair"), null);
                assertThat(accepted.statusCode()).isEqualTo(202);
                location = accepted.headers().firstValue("Location").orElseThrow();
                eventually(() -> status(doomed.uri(location)), "running");
                doomed.process().destroyForcibly(); // SIGKILL: no shutdown hook, nothing released
                assertThat(doomed.process().waitFor(10, TimeUnit.SECONDS)).isTrue();
            }

            try (var next = JarProcess.start(env)) {
                var done = eventually(() -> status(next.uri(location)), "done");
                assertThat(done.getString("failure")).isNull();
                assertThat(listed(next.uri("/v1/robots?limit=1&after=" + (robot - 1))).getLong("repairs"))
                        .isEqualTo(1);
                var repairs = new JsonObject(get(next.uri("/v1/robots/" + robot + "/repairs")).body())
                        .getJsonArray("repairs");
                assertThat(repairs).hasSize(1);
                assertThat(next.terminate(Duration.ofSeconds(10))).isZero();
            }
        }
    }

    private HttpResponse<String> send(URI uri, String json) throws Exception {
        var request = HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + RunningService.TOKEN);
        if (json != null) {
            request.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        } else {
            request.POST(HttpRequest.BodyPublishers.noBody());
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonObject status(URI uri) throws Exception {
        return new JsonObject(get(uri).body());
    }

    private JsonObject listed(URI uri) throws Exception {
        return new JsonObject(get(uri).body()).getJsonArray("robots").getJsonObject(0);
    }

    private interface Read {
        JsonObject read() throws Exception;
    }

    private static JsonObject eventually(Read read, String status) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        JsonObject value = read.read();
        while (!status.equals(value.getString("status")) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            value = read.read();
        }
        assertThat(value.getString("status")).as(value.encode()).isEqualTo(status);
        return value;
    }
}
