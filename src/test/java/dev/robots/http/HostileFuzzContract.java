package dev.robots.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Generated hostile requests (path spellings × methods × header combinations, from a fixed seed so that a failure
 * can be replayed), and the invariants that hold whatever they are: no write without a valid token changes the
 * database, nothing gets a 500 or no answer at all, the metrics gain no series, and the next normal request on a
 * fresh connection is answered. Run on each database by a subclass.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class HostileFuzzContract {
    private static final int REQUESTS = 600;
    private static final String LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    @RegisterExtension
    final RunningService service;
    private int port;
    private long target;

    HostileFuzzContract(String kind) {
        service = RunningService.onFresh(kind, Map.of("MAX_CONCURRENT_REQUESTS", "1000"));
    }

    @BeforeAll
    void createTarget() {
        port = service.uri("/").getPort();
        target = service.create("target");
    }

    @Test
    void generated_hostile_requests_change_nothing_fail_nothing_and_add_no_metric_series() throws Exception {
        String robotsBefore = robots();
        var failures = new ArrayList<String>();
        fuzz(new Random(1), REQUESTS, failures);
        service.awaitFlushed();

        assertThat(failures).isEmpty();
        // Each label from its closed set, so however long the fuzz ran the series stay as few as these sets allow.
        assertThat(series()).allSatisfy(series -> assertThat(series).matches(
                "http_server_requests_seconds_(count|sum|max|bucket)\\{method=\"(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS"
                        + "|TRACE|CONNECT|other)\",route=\"(/v1/robots|/v1/robots/:id|/v1/robots/:id/repair"
                        + "|/v1/robots/repair|/healthz|/readyz|/metrics|unmatched)\",status=\"[1-5]\\d\\d\"(,le=\"[^\"]+\")?}"));
        assertThat(robots()).isEqualTo(robotsBefore);
        assertThat(service.create("after the fuzz")).isEqualTo(target + 1);
    }

    @Test
    void floods_of_random_methods_and_paths_add_no_metric_series() throws Exception {
        var random = new Random(3);
        flood(random, 5); // the first of each kind makes its series
        series(); // and the first scrape its own
        var before = series();
        flood(random, 300);
        assertThat(series()).isEqualTo(before);
    }

    private void flood(Random random, int times) throws Exception {
        for (int i = 0; i < times; i++) {
            String method = word(random, 1 + random.nextInt(i % 10 == 0 ? 3000 : 12)).toUpperCase();
            for (String path : List.of("/v1/robots/" + target, "/v1/robots", "/healthz", "/metrics",
                    "/" + word(random, 1 + random.nextInt(40)), "/v1/robots/" + word(random, 8) + "/" + word(random, 5))) {
                Raw.exchange(port, method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            }
        }
    }

    private void fuzz(Random random, int count, List<String> failures) throws Exception {
        for (int i = 0; i < count; i++) {
            String request = hostile(random);
            var answer = Raw.exchange(port, request);
            var statuses = answer.statuses();
            if (statuses.isEmpty() || statuses.contains(500) || statuses.stream().anyMatch(s -> s >= 200 && s < 300
                    && !request.startsWith("GET ") && !request.startsWith("HEAD "))) {
                failures.add(request.lines().findFirst().orElse("") + " -> " + answer.text().lines().findFirst()
                        .orElse("(nothing)"));
            }
            var next = Raw.exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            if (next.statuses().isEmpty() || next.status() != 200) {
                failures.add("no answer to the next request after: " + request.lines().findFirst().orElse(""));
            }
        }
    }

    /** One request that must not write: its token is missing, wrong or doubled, or its framing is ambiguous. */
    private String hostile(Random random) {
        String[] methods = {"POST", "PATCH", "DELETE", "PUT", "GET", "HEAD", "OPTIONS", "TRACE", "post",
            word(random, 1 + random.nextInt(20)).toUpperCase()};
        String method = methods[random.nextInt(methods.length)];
        String[] paths = {"/v1/robots", "/v1/robots/" + target, "/v1/robots/" + target + "/repair",
            "/v1/robots/repair"};
        List<String> spellings = Spellings.of(paths[random.nextInt(paths.length)]);
        String path = random.nextInt(5) == 0
                ? "/" + word(random, 1 + random.nextInt(30)) + (random.nextBoolean() ? "/%" + word(random, 2) : "")
                : spellings.get(random.nextInt(spellings.size()));
        String body = random.nextBoolean() ? "{\"name\":\"fuzz\"}" : "robot_id=" + target;
        var head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n");
        String[] hosts = {"Host: x\r\n", "Host: x\r\nHost: y\r\n", "", "Host: x\r\n"};
        head.append(hosts[random.nextInt(hosts.length)]);
        String[] credentials = {"", "Authorization: Bearer nope-nope-nope-nope\r\n",
            "Authorization: Bearer " + RunningService.TOKEN + "\r\nAuthorization: Bearer x\r\n",
            "Authorization: Bearer x\r\nAuthorization: Bearer " + RunningService.TOKEN + "\r\n",
            "Authorization: bearer\r\n", "Authorization: " + word(random, 30) + "\r\n"};
        head.append(credentials[random.nextInt(credentials.length)]);
        String[] types = {"application/json", "application/x-www-form-urlencoded", "text/plain",
            "application/merge-patch+json", word(random, 10)};
        head.append("Content-Type: ").append(types[random.nextInt(types.length)]).append("\r\n");
        if (random.nextInt(4) == 0) {
            head.append("X-Forwarded-For: ").append(word(random, 10)).append(", 10.0.0.1\r\n");
        }
        if (random.nextInt(4) == 0) {
            head.append("X-Request-Id: ").append(word(random, 1 + random.nextInt(100))).append("\r\n");
        }
        head.append("Connection: close\r\n");
        switch (random.nextInt(5)) {
            case 0 -> head.append("Content-Length: ").append(body.length())
                    .append("\r\nTransfer-Encoding: chunked\r\n\r\n").append(chunked(body));
            case 1 -> head.append("Transfer-Encoding: chunked\r\n\r\n").append(chunked(body));
            case 2 -> head.append("Transfer-Encoding: ").append(random.nextBoolean() ? "gzip" : "chunked, identity")
                    .append("\r\n\r\n").append(body);
            default -> head.append("Content-Length: ").append(body.length()).append("\r\n\r\n").append(body);
        }
        return head.toString();
    }

    private static String chunked(String body) {
        return Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n";
    }

    private static String word(Random random, int length) {
        var word = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            word.append(LETTERS.charAt(random.nextInt(LETTERS.length())));
        }
        return word.toString();
    }

    /**
     * The HTTP request series /metrics shows, without their values; the JVM's own meters come and go on their own (a
     * first GC of a new cause, say), whatever the requests.
     */
    private java.util.Set<String> series() {
        return service.scrape().lines().filter(line -> line.startsWith("http_server_requests"))
                .map(line -> line.substring(0, line.lastIndexOf(' ')))
                .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
    }

    private String robots() {
        var robots = new JsonArray();
        String next = "/v1/robots?limit=500";
        while (next != null) {
            var page = new JsonObject(service.get(next).body());
            page.getJsonArray("robots").forEach(robot -> robots.add(((JsonObject) robot).copy().put("count", 0)));
            next = page.getString("next");
        }
        return robots.encode();
    }
}
