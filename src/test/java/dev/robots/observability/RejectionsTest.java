package dev.robots.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import dev.robots.TestDatabase;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every 503 the guards send is counted under its cause in {@code robots_http_rejections_total}, so that a dashboard
 * tells a full instance from a slow one. (The database cause: {@code DatabaseOutageTest}.)
 */
class RejectionsTest {
    private static TestDatabase database;

    @BeforeAll
    static void create() {
        database = TestDatabase.create("h2");
    }

    @AfterAll
    static void drop() {
        database.close();
    }

    @Test
    void every_cause_is_a_series_from_the_start() {
        try (var service = RunningService.start(database)) {
            String metrics = service.scrape();
            for (var cause : Rejection.values()) {
                assertThat(rejections(metrics, cause)).as(cause.label()).isZero();
            }
        }
    }

    @Test
    void a_request_past_max_concurrent_requests_counts_as_overload() throws IOException, InterruptedException {
        try (var service = RunningService.start(database,
                        Map.of("MAX_CONCURRENT_REQUESTS", "1", "REQUEST_TIMEOUT_MS", "600000"));
                var held = halfSentPost(service)) {
            // Once the server has read the held request's head, it is the one in progress, and the next is refused.
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (service.get("/v1/robots?limit=1").statusCode() != 503) {
                assertThat(System.nanoTime()).as("a 503 within 10 s").isLessThan(deadline);
                Thread.sleep(10);
            }

            String metrics = service.scrape();
            assertThat(rejections(metrics, Rejection.OVERLOAD)).isEqualTo(1);
            assertThat(rejections(metrics, Rejection.TIMEOUT)).isZero();
            // The held request finishes as any other, rather than with a connection cut mid-body.
            held.getOutputStream().write("{\"name\":\"held-1234\"}".getBytes(StandardCharsets.UTF_8));
            var answer = new BufferedReader(new InputStreamReader(held.getInputStream(), StandardCharsets.UTF_8));
            assertThat(answer.readLine()).isEqualTo("HTTP/1.1 201 Created");
        }
    }

    @Test
    void a_request_past_request_timeout_counts_as_timeout() throws IOException {
        try (var service = RunningService.start(database, Map.of("REQUEST_TIMEOUT_MS", "200"));
                var held = halfSentPost(service);
                var answer = new BufferedReader(new InputStreamReader(held.getInputStream(), StandardCharsets.UTF_8))) {
            // The body never comes, so the deadline answers for it.
            assertThat(answer.readLine()).isEqualTo("HTTP/1.1 503 Service Unavailable");

            String metrics = service.scrape();
            assertThat(rejections(metrics, Rejection.TIMEOUT)).isEqualTo(1);
            assertThat(rejections(metrics, Rejection.OVERLOAD)).isZero();
        }
    }

    /** A write whose head is sent and whose body never follows: a request in progress until the server gives up. */
    private static Socket halfSentPost(RunningService service) throws IOException {
        var socket = new Socket("127.0.0.1", service.uri("/").getPort());
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/robots HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + RunningService.TOKEN
                + "\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        return socket;
    }

    static double rejections(String metrics, Rejection cause) {
        return metrics.lines()
                .filter(line -> line.startsWith("robots_http_rejections_total{cause=\"" + cause.label() + "\""))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no series for cause " + cause.label()));
    }
}
