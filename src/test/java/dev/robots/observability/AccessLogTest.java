package dev.robots.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.Eventually;
import dev.robots.LogCapture;
import dev.robots.RunningService;
import java.time.Duration;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * Access entries tell the truth and leak nothing: secrets in query strings redacted, the caller's request id echoed
 * in the answer and the entry, the client address from the right end of {@code X-Forwarded-For} and only if it is an
 * address, control characters escaped in text lines.
 */
class AccessLogTest {
    @Test
    void secrets_in_query_strings_are_redacted() {
        assertThat(AccessLog.redact("/v1/robots?limit=5&access_token=abc&token=def&api_key=ghi&KEY=jkl&after=1"))
                .isEqualTo("/v1/robots?limit=5&access_token=REDACTED&token=REDACTED&api_key=REDACTED&KEY=REDACTED"
                        + "&after=1");
        assertThat(AccessLog.redact("/v1/robots?password=x&client_secret=y&sig=z&limit"))
                .isEqualTo("/v1/robots?password=REDACTED&client_secret=REDACTED&sig=REDACTED&limit");
        assertThat(AccessLog.redact("/v1/robots/1")).isEqualTo("/v1/robots/1");
        assertThat(AccessLog.redact("/v1/robots?limit=5;token=abc&after=1;sig=x;"))
                .isEqualTo("/v1/robots?limit=5;token=REDACTED&after=1;sig=REDACTED;");
    }

    @Test
    void an_escaped_secret_name_and_the_usual_other_names_are_redacted_too() {
        assertThat(AccessLog.redact("/v1/robots?to%6Ben=a&access%5Ftoken=b&pass=c&jwt=d&bearer=e&limit=5&x=%ZZ"))
                .isEqualTo("/v1/robots?to%6Ben=REDACTED&access%5Ftoken=REDACTED&pass=REDACTED&jwt=REDACTED"
                        + "&bearer=REDACTED&limit=5&x=%ZZ");
        assertThat(AccessLog.redact("/v1/robots?%ZZtoken=a&after=%6B"))
                .isEqualTo("/v1/robots?%ZZtoken=REDACTED&after=%6B");
    }

    /**
     * A client or a framework in front may mean {@code ;} as a parameter separator (Netty's decoder did; this service
     * reads {@code &} alone), so the access log redacts what follows a {@code ;} too: it split at {@code &} only, and
     * {@code ?x=5;token=...} was logged with its token.
     */
    @Test
    void a_secret_after_a_semicolon_is_redacted() throws Exception {
        try (var logs = new LogCapture(Level.INFO);
                var service = RunningService.startOnFresh("h2", Map.of("ACCESS_LOG", "true"))) {
            assertThat(service.get("/v1/robots?x=5;token=s3cret-after-a-semicolon;access_token=s3cret-two")
                    .statusCode()).isEqualTo(200);

            // An entry is logged once its response is written, which the client may read first.
            var access = Eventually.eventually(Duration.ofSeconds(5),
                    () -> logs.lines().stream().filter(line -> line.contains("GET /v1/robots?")).toList(),
                    lines -> lines.stream().anyMatch(line -> line.startsWith(
                            "GET /v1/robots?x=5;token=REDACTED;access_token=REDACTED 200")));
            assertThat(access).noneMatch(line -> line.contains("s3cret"));
        }
    }

    @Test
    void control_characters_are_escaped_in_text_lines() {
        assertThat(Logging.escapeControls("GET /x\r\n2026-01-01 INFO forged\u001b[2J\u2028"))
                .isEqualTo("GET /x\\u000d\\u000a2026-01-01 INFO forged\\u001b[2J\\u2028");
        assertThat(Logging.escapeControls("plain line é")).isEqualTo("plain line é");
    }

    @Test
    void the_request_id_is_echoed_and_logged_and_the_client_address_comes_from_the_right() throws Exception {
        try (var logs = new LogCapture(Level.INFO);
                var service = RunningService.startOnFresh("h2", Map.of("ACCESS_LOG", "true", "TRUST_PROXY", "true"))) {
            var echoed = service.send(service.request("GET", "/v1/robots?token=s3cret-in-the-query", null, null)
                    .header("X-Request-Id", "req-42")
                    .header("X-Forwarded-For", "6.6.6.6, 203.0.113.7"));
            assertThat(echoed.headers().firstValue("X-Request-Id")).hasValue("req-42");
            var forged = service.send(service.request("GET", "/healthz", null, null)
                    .header("X-Forwarded-For", "198.51.100.1, not-an-address"));
            assertThat(forged.statusCode()).isEqualTo(200);
            // Two header lines are one list: the trusted proxy appended to the last, whatever the client sent first.
            var twoLines = service.send(service.request("GET", "/v1/robots?limit=2", null, null)
                    .header("X-Forwarded-For", "192.0.2.66")
                    .header("X-Forwarded-For", "198.51.100.9"));
            assertThat(twoLines.statusCode()).isEqualTo(200);
            var insane = service.send(service.request("GET", "/healthz", null, null)
                    .header("X-Request-Id", "<script>"));
            assertThat(insane.headers().firstValue("X-Request-Id")).isPresent().get().asString()
                    .matches("[0-9a-f-]{36}"); // replaced by an id of our own, never echoed as sent

            // Each entry is logged as its response ends, before the client has read it.
            var access = logs.lines().stream().filter(line -> line.contains("GET /")).toList();
            assertThat(access).anyMatch(line -> line.contains("/v1/robots?token=REDACTED 200")
                    && line.contains("203.0.113.7") && line.contains("req-42") && !line.contains("6.6.6.6"));
            assertThat(access).noneMatch(line -> line.contains("s3cret-in-the-query"));
            assertThat(access).anyMatch(line -> line.startsWith("GET /v1/robots?limit=2 200")
                    && line.contains("198.51.100.9")).noneMatch(line -> line.contains("192.0.2.66"));
            assertThat(access).anyMatch(line -> line.startsWith("GET /healthz 200") && line.contains("127.0.0.1"))
                    .noneMatch(line -> line.contains("not-an-address") || line.contains("198.51.100.1"));
        }
    }

    /**
     * An answer given without the router (a request the decoder refused: a bad Host, an unsupported
     * Transfer-Encoding, HTTP/2.0 in the request line; a target that is not a path) has its access entry and is
     * counted in http_server_requests_seconds, as every other answer: they were answered, and neither said so (a
     * 501, a 5xx, was missing from the error-rate alert's numerator and denominator alike).
     */
    @Test
    void answers_given_without_the_router_are_logged_and_measured() throws Exception {
        try (var logs = new LogCapture(Level.INFO);
                var service = RunningService.startOnFresh("h2", Map.of("ACCESS_LOG", "true"))) {
            String before = service.scrape();
            int port = service.uri("/").getPort();
            assertThat(raw(port, "GET /v1/robots/1 HTTP/1.1\r\nHost: a b\r\n\r\n")).startsWith("HTTP/1.1 400 ");
            assertThat(raw(port, "POST /v1/robots HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"))
                    .startsWith("HTTP/1.1 501 ");
            assertThat(raw(port, "GET /v1/robots/1 HTTP/2.0\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 505 ");
            assertThat(raw(port, "GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 400 ");

            String after = Eventually.eventually(Duration.ofSeconds(5), service::scrape,
                    metrics -> requests(metrics, "GET", "400") > requests(before, "GET", "400"));
            Eventually.eventually(Duration.ofSeconds(5), service::scrape,
                    metrics -> requests(metrics, "other", "505") > requests(before, "other", "505"));
            after = service.scrape();
            assertThat(requests(after, "other", "400") - requests(before, "other", "400")).isEqualTo(1);
            assertThat(requests(after, "other", "501") - requests(before, "other", "501")).isEqualTo(1);
            assertThat(requests(after, "other", "505") - requests(before, "other", "505")).isEqualTo(1);
            assertThat(requests(after, "GET", "400") - requests(before, "GET", "400")).isEqualTo(1);

            var access = Eventually.eventually(Duration.ofSeconds(5), logs::lines,
                    lines -> lines.stream().filter(line -> line.startsWith("- - ")).count() >= 3
                            && lines.stream().anyMatch(line -> line.startsWith("GET * 400")));
            assertThat(access).anyMatch(line -> line.startsWith("- - 400 "))
                    .anyMatch(line -> line.startsWith("- - 501 "))
                    .anyMatch(line -> line.startsWith("- - 505 "))
                    .anyMatch(line -> line.startsWith("GET * 400 "));
        }
    }

    /** Sends {@code request} on a connection of its own and reads the answer to its end. */
    private static String raw(int port, String request) throws java.io.IOException {
        try (var socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
        }
    }

    /** http_server_requests_seconds_count of route unmatched, for a method and status. */
    private static double requests(String metrics, String method, String status) {
        return metrics.lines()
                .filter(l -> l.startsWith("http_server_requests_seconds_count{") && l.contains("route=\"unmatched\"")
                        && l.contains("method=\"" + method + "\"") && l.contains("status=\"" + status + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }
}
