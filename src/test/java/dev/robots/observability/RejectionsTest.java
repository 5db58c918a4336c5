package dev.robots.observability;

import static dev.robots.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.LogCapture;
import dev.robots.RunningService;
import dev.robots.TcpProxy;
import dev.robots.TestDatabase;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * Every 503 the guards send is counted under its cause in {@code robots_http_rejections_total}, so that a dashboard
 * tells a full instance from a slow one. (The database cause: {@code DatabaseOutageTest}.)
 */
class RejectionsTest {
    @Test
    void every_cause_is_a_series_from_the_start() {
        try (var service = RunningService.startOnFresh("h2")) {
            String metrics = service.scrape();
            for (var cause : Rejection.values()) {
                assertThat(rejections(metrics, cause)).as(cause.label()).isZero();
            }
        }
    }

    @Test
    void a_request_past_max_concurrent_requests_counts_as_overload() throws IOException, InterruptedException {
        try (var service = RunningService.startOnFresh("h2",
                        Map.of("MAX_CONCURRENT_REQUESTS", "1", "REQUEST_TIMEOUT_MS", "600000"));
                var first = halfSentPost(service);
                var second = halfSentPost(service)) {
            // Neither body comes: whichever request the server admitted first holds the one place, the other is
            // refused at once.
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (first.getInputStream().available() == 0 && second.getInputStream().available() == 0) {
                assertThat(System.nanoTime()).as("an answer within 10 s").isLessThan(deadline);
                Thread.sleep(10);
            }
            var refused = first.getInputStream().available() > 0 ? first : second;
            var held = refused == first ? second : first;
            assertThat(statusLine(refused)).isEqualTo("HTTP/1.1 503 Service Unavailable");

            String metrics = awaitRejection(service, Rejection.OVERLOAD);
            assertThat(rejections(metrics, Rejection.OVERLOAD)).isEqualTo(1);
            assertThat(rejections(metrics, Rejection.TIMEOUT)).isZero();
            // The held request finishes as any other, rather than with a connection cut mid-body.
            held.getOutputStream().write("{\"name\":\"held-1234\"}".getBytes(StandardCharsets.UTF_8));
            assertThat(statusLine(held)).isEqualTo("HTTP/1.1 201 Created");
        }
    }

    @Test
    void a_client_that_resets_its_connection_mid_body_is_not_the_database_unavailable() throws Exception {
        // A reset failed the body's read with the socket's own error, of the same classes as a database
        // connection's: it was a 503 counted under cause="database" and a "Database unavailable" warning.
        var problems = Logger.getLogger("dev.robots.http.Problems");
        Level level = problems.getLevel();
        try (var service = RunningService.startOnFresh("h2"); var logs = new LogCapture(Level.FINE)) {
            problems.setLevel(Level.FINE); // after the start, which sets the levels up
            for (int i = 0; i < 10; i++) {
                try (var socket = halfSentPost(service)) {
                    // Each step once the server is at the body: a reset it is not reading for shows only when the
                    // answer (a 408, the body never came) is written.
                    Thread.sleep(150);
                    socket.getOutputStream().write("{\"na".getBytes(StandardCharsets.UTF_8));
                    socket.getOutputStream().flush();
                    Thread.sleep(150);
                    socket.setSoLinger(true, 0); // the close sends RST
                }
            }
            eventually(Duration.ofSeconds(10), logs::lines, lines -> lines.stream()
                    .filter(line -> line.endsWith("the client closed the connection")).count() == 10);
            assertThat(logs.lines()).noneMatch(line -> line.contains("Database unavailable"));
            assertThat(rejections(service.scrape(), Rejection.DATABASE)).isZero();
            assertThat(service.get("/healthz").statusCode()).isEqualTo(200);
        } finally {
            problems.setLevel(level);
        }
    }

    /**
     * The metrics once a rejection for {@code cause} shows: it is counted when the server has written the answer,
     * which can be a moment after the client has read it.
     */
    private static String awaitRejection(RunningService service, Rejection cause) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        String metrics = service.scrape();
        while (rejections(metrics, cause) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
            metrics = service.scrape();
        }
        return metrics;
    }

    private static String statusLine(Socket socket) throws IOException {
        return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }

    @Test
    void a_request_past_request_timeout_counts_as_timeout() throws Exception {
        // A request that has fully arrived and waits for a database that went silent: the deadline answers for it
        // with a 503 (a body that is still arriving is the client's delay instead: a 408, not counted here).
        try (var postgres = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var proxy = new TcpProxy(URI.create(TestDatabase.ADMIN_URL).getPort())) {
            String viaProxy = postgres.url().replaceFirst(":\\d+/", ":" + proxy.port() + "/");
            try (var service = RunningService.start(postgres, Map.of("DATABASE_URL", viaProxy,
                    "REQUEST_TIMEOUT_MS", "300", "DB_TIMEOUT_MS", "5000", "CACHE_MB", "0"))) {
                long id = service.create("slow");
                proxy.blackhole();
                assertThat(service.get("/v1/robots/" + id).statusCode()).isEqualTo(503);

                String metrics = awaitRejection(service, Rejection.TIMEOUT);
                assertThat(rejections(metrics, Rejection.TIMEOUT)).isEqualTo(1);
                assertThat(rejections(metrics, Rejection.OVERLOAD)).isZero();
                proxy.restore();
            }
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
