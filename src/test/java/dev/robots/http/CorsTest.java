package dev.robots.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import java.net.http.HttpResponse;
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
}
