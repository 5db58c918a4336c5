package dev.robots.http;

import static dev.robots.http.Raw.AUTH;
import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One resource, one spelling: a path with a trailing slash is no route's, so it is a 404 problem and nothing runs (no
 * read counted, no write made, not even the token checked), on every route of the server and on the metrics listener.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrailingSlashTest {
    @RegisterExtension
    final RunningService service = RunningService.onFresh("h2", Map.of("COUNT_FLUSH_MS", "50"));
    private int port;
    private long robot;

    @BeforeAll
    void createRobot() {
        port = service.uri("/").getPort();
        robot = service.create("target");
    }

    private Raw.Answer send(int port, String method, String path, String credentials) throws Exception {
        String body = method.equals("GET") || method.equals("HEAD") ? "" : "{\"name\":\"renamed\"}";
        return Raw.exchange(port, method + " " + path + " HTTP/1.1\r\nHost: x\r\n" + credentials
                + "Connection: close\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n"
                + body);
    }

    /** Every path the server routes, with its parameters filled in, and the methods it takes. */
    private Map<String, List<String>> routedPaths() {
        var paths = new TreeMap<String, List<String>>();
        for (var route : service.app().routes()) {
            String path = route.getPath();
            if (path == null) {
                continue;
            }
            String concrete = path.replace(":id", Long.toString(robot)).replace(":repair_id", "1")
                    .replace("*", "");
            if (concrete.endsWith("/")) {
                concrete += "swagger-ui.css"; // a route on a prefix (the webjar's files): one file under it
            }
            var methods = route.methods() == null || route.methods().isEmpty()
                    ? List.of("GET", "HEAD", "POST", "PATCH", "DELETE", "PUT")
                    : route.methods().stream().map(Object::toString).toList();
            paths.computeIfAbsent(concrete, p -> new ArrayList<>()).addAll(methods);
        }
        return paths;
    }

    @Test
    void every_route_spelled_with_a_trailing_slash_is_a_404_problem_and_runs_nothing() throws Exception {
        long count = service.flushedCount(robot);
        String before = service.get("/v1/robots?limit=500").body();
        var failures = new ArrayList<String>();
        var paths = routedPaths();
        assertThat(paths).containsKeys("/v1/robots", "/v1/robots/" + robot, "/v1/robots/" + robot + "/repair",
                "/v1/robots/repair", "/healthz", "/readyz", "/docs", "/openapi.json");
        for (var entry : paths.entrySet()) {
            for (String method : new TreeSet<>(entry.getValue())) {
                for (String credentials : List.of("", AUTH)) {
                    var answer = send(port, method, entry.getKey() + "/", credentials);
                    if (!answer.statuses().equals(List.of(404))
                            || !answer.text().contains("Content-Type: application/problem+json")) {
                        failures.add(method + " " + entry.getKey() + "/ -> " + answer.text());
                    }
                }
            }
        }
        assertThat(failures).isEmpty();
        assertThat(service.flushedCount(robot)).as("no read with a trailing slash was counted").isEqualTo(count);
        assertThat(service.get("/v1/robots?limit=500").body()).as("no write ran").isEqualTo(before);
        assertThat(new JsonObject(service.get("/v1/robots/" + robot + "/repairs").body()).getJsonArray("repairs"))
                .as("no repair was queued").isEmpty();
    }

    @Test
    void the_exact_spelling_is_served_and_a_wrong_one_is_told_the_right_one() throws Exception {
        assertThat(send(port, "GET", "/v1/robots/" + robot, "").status()).isEqualTo(200);
        var answer = send(port, "GET", "/v1/robots/" + robot + "/", "");
        assertThat(answer.text()).contains("nothing at /v1/robots/" + robot + "/", "try /v1/robots/" + robot + ".");
        assertThat(send(port, "GET", "/", "").status()).isEqualTo(404);
    }

    @Test
    void the_metrics_listener_serves_one_spelling_too() throws Exception {
        int metrics = service.app().metricsPort();
        assertThat(send(metrics, "GET", "/metrics", "").status()).isEqualTo(200);
        var answer = send(metrics, "GET", "/metrics/", "");
        assertThat(answer.statuses()).containsExactly(404);
        assertThat(answer.text()).contains("Content-Type: application/problem+json");
    }
}
