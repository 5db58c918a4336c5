package dev.robots.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import io.vertx.core.MultiMap;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Browsers may call the API from the origins in CORS_ORIGINS only: never a wildcard, never credentials. */
class CorsTest {

    private static HttpResponse<String> preflight(RunningService service, String origin) {
        return service.send(service.request("OPTIONS", "/v1/robots/1", null, null)
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "PATCH")
                .header("Access-Control-Request-Headers", "authorization, content-type"));
    }

    private static HttpResponse<String> getFrom(RunningService service, String origin) {
        return service.send(service.request("GET", "/v1/robots", null, null).header("Origin", origin));
    }

    @Test
    void only_listed_origins_are_allowed_and_never_with_credentials() throws Exception {
        try (var service = RunningService.startOnFresh("h2",
                        Map.of("CORS_ORIGINS", "https://app.example.com, https://admin.example.com"))) {
            for (String origin : new String[] {"https://app.example.com", "https://admin.example.com"}) {
                var allowed = preflight(service, origin);
                assertThat(allowed.statusCode()).isBetween(200, 204);
                assertThat(allowed.headers().firstValue("Access-Control-Allow-Origin")).contains(origin);
                assertThat(allowed.headers().firstValue("Access-Control-Allow-Methods").orElseThrow())
                        .contains("PATCH");
                assertThat(allowed.headers().firstValue("Access-Control-Allow-Headers").orElseThrow().toLowerCase())
                        .contains("authorization").contains("content-type");
                assertThat(allowed.headers().firstValue("Access-Control-Allow-Credentials")).isEmpty();

                var read = getFrom(service, origin);
                assertThat(read.statusCode()).isEqualTo(200);
                assertThat(read.headers().firstValue("Access-Control-Allow-Origin")).contains(origin);
                assertThat(read.headers().firstValue("Access-Control-Allow-Credentials")).isEmpty();
            }

            // Matched as whole origins: no prefix, suffix, other port or path of an allowed one passes. (Host case, a
            // default port and a bare trailing slash are not compared: https://APP.example.com:443/ is the same origin.)
            for (String origin : new String[] {"https://evil.example.com", "http://app.example.com",
                    "https://app.example.com.evil.net", "null", "https://app.example.com:8443",
                    "https://app.example.comx", "https://xapp.example.com",
                    "https://app.example.co", "https://app.example.com, https://evil.example.com", "*"}) {
                var refused = preflight(service, origin);
                assertThat(refused.statusCode()).as(origin).isEqualTo(403);
                assertThat(refused.headers().firstValue("Access-Control-Allow-Origin")).as(origin).isEmpty();
                assertThat(refused.headers().firstValue("Content-Type")).as(origin)
                        .contains("application/problem+json");
                var read = getFrom(service, origin);
                assertThat(read.headers().firstValue("Access-Control-Allow-Origin")).as(origin).isEmpty();
                // A plain GET from another origin is refused outright (README, CORS_ORIGINS), not served unmarked.
                assertThat(read.statusCode()).as(origin).isEqualTo(403);
                assertThat(read.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            }
        }
    }

    /**
     * A page of the service itself (/docs' "try it out") sends Origin with its POST, PATCH and DELETE: its own origin
     * (the host and port it sent the request to, whatever the scheme: a front end may have taken HTTPS off) is not
     * another origin. It got the 403 meant for other origins, in a status line that said "CORS Rejected - Invalid
     * origin" under a problem titled Forbidden.
     */
    @Test
    void the_service_own_pages_may_write_and_other_hosts_or_ports_may_not() throws Exception {
        try (var service = RunningService.startOnFresh("h2", Map.of("CORS_ORIGINS", "https://app.example.com"))) {
            int port = service.app().port();
            for (String own : new String[] {"http://127.0.0.1:" + port, "https://127.0.0.1:" + port}) {
                var create = service.send(service.request("POST", "/v1/robots", "application/json",
                                "{\"name\": \"R2-D2\"}")
                        .header("Origin", own)
                        .header("Authorization", "Bearer " + RunningService.TOKEN));
                assertThat(create.statusCode()).as(own).isEqualTo(201);
                // Passed on, not allowed as a listed origin: nothing a page of another origin could use.
                assertThat(create.headers().firstValue("Access-Control-Allow-Origin")).as(own).isEmpty();
                assertThat(getFrom(service, own).statusCode()).as(own).isEqualTo(200);
            }
            for (String other : new String[] {"http://localhost:" + port, "http://127.0.0.1:" + (port + 1),
                    "http://127.0.0.1", "http://127.0.0.1:" + port + "0", "http://127.0.0.1:+" + port,
                    "http://127.0.0.1:" + port + "/", "127.0.0.1:" + port, "null"}) {
                assertThat(getFrom(service, other).statusCode()).as(other).isEqualTo(403);
            }
            var refused = Raw.exchange(port, "GET /v1/robots HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://localhost:%d\r\nConnection: close\r\n\r\n".formatted(port, port));
            assertThat(refused.text()).startsWith("HTTP/1.1 403 Forbidden\r\n");
            // The Host header is what the request was sent to: one that names the Origin's host is that origin's.
            var rebound = Raw.exchange(port, "GET /v1/robots HTTP/1.1\r\nHost: localhost:%d\r\nOrigin: http://localhost:%d\r\nConnection: close\r\n\r\n".formatted(port, port));
            assertThat(rebound.status()).isEqualTo(200);
            // A port left out is the scheme's default, on either side: a front end may spell :443 in Host.
            for (String[] pair : new String[][] {{"robots.example:443", "https://robots.example"},
                    {"robots.example:80", "http://robots.example"}, {"robots.example", "https://robots.example:443"}}) {
                var own = Raw.exchange(port, "GET /v1/robots HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nConnection: close\r\n\r\n"
                        .formatted(pair[0], pair[1]));
                assertThat(own.status()).as(pair[0] + " " + pair[1]).isEqualTo(200);
            }
            for (String[] pair : new String[][] {{"robots.example:443", "http://robots.example"},
                    {"robots.example:8443", "https://robots.example"}}) {
                var other = Raw.exchange(port, "GET /v1/robots HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nConnection: close\r\n\r\n"
                        .formatted(pair[0], pair[1]));
                assertThat(other.status()).as(pair[0] + " " + pair[1]).isEqualTo(403);
            }
        }
    }

    @Test
    void without_CORS_ORIGINS_no_origin_is_allowed() throws Exception {
        try (var service = RunningService.startOnFresh("h2")) {
            var read = getFrom(service, "https://app.example.com");
            assertThat(read.statusCode()).isEqualTo(200);
            assertThat(read.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
            assertThat(preflight(service, "https://app.example.com").headers()
                    .firstValue("Access-Control-Allow-Origin")).isEmpty();
        }
    }

    /**
     * A page of an allowed origin can use what makes its writes safe: the preflight allows If-Match, If-None-Match,
     * Idempotency-Key and X-Request-Id (none is CORS-safelisted, so a browser asks before sending one), and the page
     * can read the ETag, Location, Idempotent-Replayed, Retry-After and X-Request-Id of the answers. Only
     * Authorization and Content-Type were allowed and only Location exposed: a browser refused a PATCH under If-Match
     * before sending it, and the page could not even read the ETag it would have sent.
     */
    @Test
    void an_allowed_origin_may_send_conditions_and_keys_and_read_the_etag() throws Exception {
        String origin = "https://app.example.com";
        try (var service = RunningService.startOnFresh("h2", Map.of("CORS_ORIGINS", origin))) {
            long id = service.create("R2-D2");
            for (String[] asked : new String[][] {
                    {"PATCH", "/v1/robots/" + id, "authorization, content-type, if-match"},
                    {"DELETE", "/v1/robots/" + id, "authorization, if-match"},
                    {"POST", "/v1/robots", "authorization, content-type, idempotency-key, x-request-id"},
                    {"POST", "/v1/robots/" + id + "/repair", "authorization, idempotency-key, if-match"},
                    {"GET", "/v1/robots/" + id, "if-none-match, x-request-id"}}) {
                var preflight = service.send(service.request("OPTIONS", asked[1], null, null)
                        .header("Origin", origin)
                        .header("Access-Control-Request-Method", asked[0])
                        .header("Access-Control-Request-Headers", asked[2]));
                assertThat(preflight.statusCode()).as(asked[0] + " " + asked[1]).isBetween(200, 204);
                assertThat(list(preflight, "Access-Control-Allow-Headers")).as(asked[0] + " " + asked[1])
                        .containsAll(Arrays.asList(asked[2].split(", ")));
            }

            var create = service.request("POST", "/v1/robots", "application/json", "{\"name\": \"BB-8\"}")
                    .header("Origin", origin)
                    .header("Authorization", "Bearer " + RunningService.TOKEN)
                    .header("Idempotency-Key", "cors-1");
            assertThat(service.send(create).statusCode()).isEqualTo(201);
            var replayed = service.send(create);
            assertThat(replayed.headers().firstValue("Idempotent-Replayed")).hasValue("true");
            assertThat(list(replayed, "Access-Control-Expose-Headers"))
                    .contains("etag", "location", "idempotent-replayed");

            var read = service.send(service.request("GET", "/v1/robots/" + id, null, null).header("Origin", origin));
            assertThat(read.statusCode()).isEqualTo(200);
            assertThat(list(read, "Access-Control-Expose-Headers")).contains("etag", "retry-after", "x-request-id");
        }
    }

    /**
     * With CORS on, an answer depends on the request's Origin (Access-Control-Allow-Origin or not, a 403 for another
     * origin), so every answer says Vary: Origin, or a shared cache may give one origin's answer to another. Vert.x's
     * CorsHandler adds it only when several origins are listed: with one, no answer carried it.
     */
    @Test
    void with_one_origin_every_answer_varies_on_origin() throws Exception {
        String origin = "https://app.example.com";
        try (var service = RunningService.startOnFresh("h2", Map.of("CORS_ORIGINS", origin))) {
            long id = service.create("R2-D2");
            String etag = service.get("/v1/robots/" + id).headers().firstValue("ETag").orElseThrow();
            var answers = Map.of(
                    "a read from the origin", getFrom(service, origin),
                    "a read without Origin", service.get("/v1/robots/" + id),
                    "a 304", service.send(service.request("GET", "/v1/robots/" + id, null, null)
                            .header("Origin", origin).header("If-None-Match", etag)),
                    "a 404 without Origin", service.get("/v1/robots/999999999"),
                    "a read from another origin (403)", getFrom(service, "https://evil.example.com"),
                    "a preflight", preflight(service, origin),
                    "a refused preflight", preflight(service, "https://evil.example.com"),
                    "the document", service.get("/openapi.yaml"));
            answers.forEach((what, answer) -> assertThat(list(answer, "Vary")).as(what).containsOnlyOnce("origin"));
            assertThat(answers.get("a 304").statusCode()).isEqualTo(304);
        }
        // Several origins: the handler's own Vary: Origin, not doubled.
        try (var service = RunningService.startOnFresh("h2",
                Map.of("CORS_ORIGINS", "https://app.example.com, https://admin.example.com"))) {
            assertThat(list(getFrom(service, origin), "Vary")).containsExactly("origin");
            assertThat(list(service.get("/v1/robots"), "Vary")).containsExactly("origin");
        }
    }

    @Test
    void origin_is_added_to_the_vary_values_already_there() {
        for (String[] vary : new String[][] {{null, "Origin"}, {"Accept-Encoding", "Accept-Encoding, Origin"},
                {"accept-encoding, origin", "accept-encoding, origin"}, {"*", "*"}}) {
            var headers = MultiMap.caseInsensitiveMultiMap();
            if (vary[0] != null) {
                headers.add("Vary", vary[0]);
            }
            Guards.varyOnOrigin(headers);
            assertThat(headers.getAll("Vary")).as(vary[0]).containsExactly(vary[1]);
        }
    }

    /** A comma-separated header's items, in lower case. */
    private static List<String> list(HttpResponse<String> response, String header) {
        return Arrays.stream(response.headers().firstValue(header).orElse("").split(","))
                .map(item -> item.strip().toLowerCase(Locale.ROOT))
                .toList();
    }
}
