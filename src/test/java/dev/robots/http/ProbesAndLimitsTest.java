package dev.robots.http;

import static dev.robots.Eventually.eventually;
import static dev.robots.http.Raw.AUTH;
import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.LogCapture;
import dev.robots.RunningService;
import java.net.http.HttpRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * Every limit holds for every request however it is spelled, a slow body cannot hold a slot, and the probes answer
 * whatever the load, with GET and HEAD; other methods get 405 with {@code Allow}.
 */
class ProbesAndLimitsTest {

    /** A request whose head and first body bytes are sent, the rest never; the socket stays open. */
    private static Socket startSlowPost(int port, String path, String credentials) throws IOException {
        var socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(20_000);
        socket.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: x\r\n" + credentials
                + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"na")
                .getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
        return socket;
    }

    /** What the server sent before closing; a read timeout (20 s) fails. */
    private static String readUntilClosed(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    @Test
    void an_unauthenticated_body_is_refused_before_it_is_read_and_holds_no_slot() throws Exception {
        try (var service = RunningService.startOnFresh("h2",
                Map.of("MAX_CONCURRENT_REQUESTS", "1", "REQUEST_TIMEOUT_MS", "60000"))) {
            int port = service.uri("/").getPort();
            for (String path : new String[] {"/v1/robots", "//v1/robots", "/v1/%72obots", "/v1/robots/1/repair"}) {
                try (var socket = startSlowPost(port, path, "")) {
                    String answer = readUntilClosed(socket);
                    assertThat(answer).as(path).containsAnyOf(" 401 ", " 400 ").contains("application/problem+json");
                }
            }
            assertThat(service.get("/v1/robots").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void an_authenticated_body_that_does_not_arrive_in_time_is_a_408_and_frees_its_slot() throws Exception {
        try (var service = RunningService.startOnFresh("h2",
                Map.of("MAX_CONCURRENT_REQUESTS", "1", "REQUEST_TIMEOUT_MS", "300"))) {
            int port = service.uri("/").getPort();
            try (var socket = startSlowPost(port, "/v1/robots", AUTH)) {
                String answer = readUntilClosed(socket);
                assertThat(answer).startsWith("HTTP/1.1 408 ").contains("application/problem+json");
            }
            assertThat(service.get("/v1/robots").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void a_request_head_trickled_in_is_a_408_once_its_head_timeout_passes() throws Exception {
        try (var service = RunningService.startOnFresh("h2",
                Map.of("REQUEST_HEAD_TIMEOUT_MS", "300", "REQUEST_TIMEOUT_MS", "60000"))) {
            int port = service.uri("/").getPort();
            byte[] head = ("GET /v1/robots HTTP/1.1\r\nHost: x\r\nX-Pad: " + "a".repeat(100) + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1);
            try (var socket = new Socket("127.0.0.1", port)) {
                socket.setSoTimeout(20_000);
                var out = socket.getOutputStream();
                try {
                    // Ten bytes every 50 ms: about 0.7 s for the whole head, a byte never 30 s (the idle timeout) apart.
                    for (int i = 0; i < head.length; i += 10) {
                        out.write(head, i, Math.min(10, head.length - i));
                        out.flush();
                        Thread.sleep(50);
                    }
                } catch (IOException closedMidway) {
                    // The server answered and closed before the head was all written.
                }
                String answer = readUntilClosed(socket);
                assertThat(answer).startsWith("HTTP/1.1 408 ").contains("application/problem+json")
                        .contains("did not arrive within 300 ms");
            }
            // A head that arrives at once, and keep-alive connections quiet between requests, are not affected.
            try (var socket = new Socket("127.0.0.1", port)) {
                socket.setSoTimeout(20_000);
                for (int i = 0; i < 2; i++) {
                    socket.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
                    byte[] buffer = new byte[1024];
                    int n = socket.getInputStream().read(buffer);
                    assertThat(new String(buffer, 0, n, StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 200 ");
                    Thread.sleep(500);
                }
            }
        }
    }

    /**
     * A head that stops arriving (part of it sent, then nothing) gets its 408 when its timeout passes, as a trickled one
     * does. The 408 used to be written but never flushed: nothing more arrived to end the read it was written in, so
     * the client heard nothing until the timer's next turn closed the connection, silently, at twice the timeout.
     */
    @Test
    void a_request_head_that_stops_arriving_is_a_408_once_its_head_timeout_passes() throws Exception {
        try (var service = RunningService.startOnFresh("h2",
                Map.of("REQUEST_HEAD_TIMEOUT_MS", "1000", "REQUEST_TIMEOUT_MS", "60000"))) {
            int port = service.uri("/").getPort();
            for (String part : new String[] {"G", "GET /v1/robots HTTP/1.1\r\n", "GET /v1/robots HTTP/1.1\r\nHost: x\r\n"}) {
                try (var socket = new Socket("127.0.0.1", port)) {
                    // Past the head's timeout, short of twice it, when the connection is closed anyway.
                    socket.setSoTimeout(1_800);
                    socket.getOutputStream().write(part.getBytes(StandardCharsets.ISO_8859_1));
                    socket.getOutputStream().flush();
                    long start = System.nanoTime();
                    String answer = readUntilClosed(socket);
                    assertThat(answer).as(part).startsWith("HTTP/1.1 408 ").contains("application/problem+json")
                            .contains("did not arrive within 1000 ms");
                    assertThat(Duration.ofNanos(System.nanoTime() - start)).as(part)
                            .isBetween(Duration.ofMillis(900), Duration.ofMillis(1_800));
                }
            }
        }
    }

    @Test
    void a_body_that_no_route_reads_closes_the_connection_after_the_answer_instead_of_being_drained()
            throws Exception {
        try (var service = RunningService.startOnFresh("h2", Map.of("REQUEST_TIMEOUT_MS", "60000"))) {
            int port = service.uri("/").getPort();
            long id = service.create("R2-D2");
            for (String head : new String[] {"GET /v1/robots/" + id, "GET /nothing/here", "PUT /v1/robots/" + id,
                    "OPTIONS *"}) {
                try (var socket = new Socket("127.0.0.1", port)) {
                    socket.setSoTimeout(20_000);
                    // Ten bytes of a body of 100; the other 90 never come.
                    socket.getOutputStream().write((head + " HTTP/1.1\r\nHost: x\r\n" + AUTH
                            + "Content-Length: 100\r\n\r\n0123456789").getBytes(StandardCharsets.ISO_8859_1));
                    String answer = readUntilClosed(socket);
                    assertThat(answer).as(head).matches("(?s)HTTP/1\\.1 [0-9]{3} .*").containsIgnoringCase(
                            "Connection: close");
                }
            }
        }
    }

    @Test
    void a_client_still_sending_a_refused_body_reads_the_answer() throws Exception {
        try (var service = RunningService.startOnFresh("h2", Map.of("REQUEST_TIMEOUT_MS", "60000"))) {
            int port = service.uri("/").getPort();
            // Larger than both ends' socket buffers: the answer goes out while most of the body is still unsent.
            byte[] body = new byte[4 * 1024 * 1024];
            Arrays.fill(body, (byte) 'x');
            // Over the body limit (413), and without a token (401): both refused before the body is read.
            for (String credentials : new String[] {AUTH, ""}) {
                try (var sender = Executors.newVirtualThreadPerTaskExecutor();
                        var socket = new Socket("127.0.0.1", port)) {
                    socket.setSoTimeout(20_000);
                    var out = socket.getOutputStream();
                    out.write(("POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + credentials
                            + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    sender.submit(() -> {
                        try {
                            out.write(body);
                        } catch (IOException closed) {
                            // The server may close before all of it is sent: what matters is the answer.
                        }
                    });
                    String answer = readUntilClosed(socket);
                    assertThat(answer).startsWith(credentials.isEmpty() ? "HTTP/1.1 401 " : "HTTP/1.1 413 ")
                            .contains("application/problem+json");
                }
            }
        }
    }

    @Test
    void a_head_carries_the_content_length_its_get_would() {
        try (var service = RunningService.startOnFresh("h2")) {
            long id = service.create("R2-D2");
            for (String path : new String[] {"/v1/robots/" + id, "/v1/robots", "/v1/robots/" + id + "/repairs",
                    "/healthz", "/readyz", "/openapi.yaml", "/openapi.json", "/docs", "/v1/robots/999", "/v1/repairs/x"}) {
                var uri = service.uri(path);
                var get = service.send(HttpRequest.newBuilder(uri).GET());
                var head = service.send(HttpRequest.newBuilder(uri).method("HEAD", HttpRequest.BodyPublishers.noBody()));
                assertThat(head.statusCode()).as(path).isEqualTo(get.statusCode());
                assertThat(head.headers().firstValue("Content-Length")).as(path)
                        .hasValue(Integer.toString(get.body().getBytes(StandardCharsets.UTF_8).length));
            }
            // The metrics' text changes from one scrape to the next; its length is there all the same.
            var head = service.send(HttpRequest.newBuilder(service.metricsUri("/metrics"))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()));
            assertThat(head.headers().firstValue("Content-Length")).hasValueSatisfying(
                    length -> assertThat(Long.parseLong(length)).isPositive());
        }
    }

    @Test
    void a_client_that_hangs_up_mid_body_frees_its_slot_and_logs_no_failure() throws Exception {
        try (var service = RunningService.startOnFresh("h2",
                Map.of("MAX_CONCURRENT_REQUESTS", "1", "REQUEST_TIMEOUT_MS", "60000"));
                var logs = new LogCapture(Level.WARNING)) {
            int port = service.uri("/").getPort();
            startSlowPost(port, "/v1/robots", AUTH).close();
            eventually(Duration.ofSeconds(10), () -> service.get("/v1/robots").statusCode(), status -> status == 200);
            // The failure of the cut body is handled a moment after the slot is freed: give it that moment.
            for (int i = 0; i < 100 && logs.lines().isEmpty(); i++) {
                Thread.sleep(20);
            }
            assertThat(logs.lines()).isEmpty();
        }
    }

    @Test
    void probes_answer_while_every_slot_is_taken() throws Exception {
        try (var service = RunningService.startOnFresh("h2",
                Map.of("MAX_CONCURRENT_REQUESTS", "2", "REQUEST_TIMEOUT_MS", "60000"))) {
            int port = service.uri("/").getPort();
            var held = new ArrayList<Socket>();
            try {
                // The slow requests are admitted as their heads arrive; wait until the server says it is full. One may
                // find the other slot still held a moment by a request of the service's start, and get a 503 of its
                // own: another slow request then takes the slot.
                eventually(Duration.ofSeconds(10), () -> {
                    try {
                        held.add(startSlowPost(port, "/v1/robots", AUTH));
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    return service.get("/v1/robots").statusCode();
                }, status -> status == 503);
                assertThat(service.get("/healthz").statusCode()).isEqualTo(200);
                assertThat(service.get("/readyz").statusCode()).isEqualTo(200);
                assertThat(service.send(service.request("HEAD", "/readyz", null, null)).statusCode()).isEqualTo(200);
                // Spelled otherwise, a probe's path is not a probe: refused before admission could be skipped.
                assertThat(Raw.exchange(port, "GET //healthz HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(400);
            } finally {
                for (var socket : held) {
                    socket.close();
                }
            }
        }
    }

    @Test
    void probes_and_metrics_take_get_and_head_and_answer_other_methods_with_405_and_allow() {
        try (var service = RunningService.startOnFresh("h2")) {
            long id = service.create("R2-D2");
            for (String path : new String[] {"/healthz", "/readyz", "/metrics", "/v1/robots", "/v1/robots/" + id}) {
                var uri = path.equals("/metrics") ? service.metricsUri(path) : service.uri(path);
                var get = service.send(HttpRequest.newBuilder(uri).GET());
                var head = service.send(HttpRequest.newBuilder(uri).method("HEAD", HttpRequest.BodyPublishers.noBody()));
                assertThat(head.statusCode()).as(path).isEqualTo(get.statusCode()).isEqualTo(200);
                assertThat(head.body()).isEmpty();
            }
            for (String path : new String[] {"/healthz", "/readyz", "/metrics"}) {
                var uri = path.equals("/metrics") ? service.metricsUri(path) : service.uri(path);
                for (String method : new String[] {"POST", "DELETE", "PUT"}) {
                    var refused = service.send(HttpRequest.newBuilder(uri)
                            .method(method, HttpRequest.BodyPublishers.noBody()));
                    assertThat(refused.statusCode()).as(method + " " + path).isEqualTo(405);
                    assertThat(refused.headers().firstValue("Allow")).hasValue("GET, HEAD");
                    assertThat(refused.headers().firstValue("Content-Type")).hasValue(Problems.CONTENT_TYPE);
                }
            }
        }
    }
}
