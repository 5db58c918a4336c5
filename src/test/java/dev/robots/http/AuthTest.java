package dev.robots.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.LogCapture;
import dev.robots.RunningService;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/** Writes need an accepted bearer token; reads stay public; no token is ever logged. */
class AuthTest {
    private static final String BODY = "{\"name\": \"R2-D2\"}";

    private static HttpResponse<String> write(RunningService service, String method, String path, String authorization) {
        // DELETE takes no body (one is a 415), the other writes here take one.
        var request = method.equals("DELETE") ? service.request(method, path, null, null)
                : service.request(method, path, "application/json", BODY);
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return service.send(request);
    }

    @Test
    void writes_need_one_of_the_configured_tokens_and_no_token_reaches_the_logs() throws Exception {
        var file = Files.createTempFile("tokens", ".txt");
        // A mounted secret as people write one: comments, a revoked token commented out, CRLF, blank lines.
        Files.writeString(file, "# rotate monthly\r\n\r\n#revoked-token-000000\r\n  gamma-token-000000  \r\n");
        try (var logs = new LogCapture(Level.ALL);
                var service = RunningService.startOnFresh("h2",
                        Map.of("API_TOKENS", "alpha-token-000000, beta-token-0000000",
                                "API_TOKENS_FILE", file.toString(), "ACCESS_LOG", "true"))) {
            for (String token : new String[] {"alpha-token-000000", "beta-token-0000000", "gamma-token-000000"}) {
                assertThat(write(service, "POST", "/v1/robots", "Bearer " + token).statusCode()).isEqualTo(201);
            }
            assertThat(write(service, "POST", "/v1/robots", "bearer alpha-token-000000").statusCode()).isEqualTo(201);

            var missing = write(service, "POST", "/v1/robots", null);
            assertThat(missing.statusCode()).isEqualTo(401);
            assertThat(missing.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(missing.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"robots\"");

            for (String wrong : new String[] {"Bearer wrong-token", "Bearer alpha-token-000000X", "Bearer ", "Basic YTpi",
                "alpha-token-000000", "Bearer #", "Bearer rotate", "Bearer monthly", "Bearer #revoked-token-000000",
                "Bearer revoked-token-000000"}) {
                var response = write(service, "POST", "/v1/robots", wrong);
                assertThat(response.statusCode()).as(wrong).isEqualTo(401);
                assertThat(response.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("Bearer");
            }
            long id = new JsonObject(write(service, "POST", "/v1/robots", "Bearer alpha-token-000000").body()).getLong("id");
            for (String[] route : new String[][] {{"PATCH", "/v1/robots/" + id}, {"DELETE", "/v1/robots/" + id},
                {"POST", "/v1/robots/" + id + "/repair"}, {"POST", "/v1/robots/repair"}}) {
                assertThat(write(service, route[0], route[1], null).statusCode()).as(route[1]).isEqualTo(401);
                assertThat(write(service, route[0], route[1], "Bearer wrong").statusCode()).isEqualTo(401);
            }
            assertThat(service.get("/v1/robots/" + id).statusCode()).isEqualTo(200);
            assertThat(service.get("/v1/robots").statusCode()).isEqualTo(200);
            assertThat(write(service, "DELETE", "/v1/robots/" + id, "Bearer gamma-token-000000").statusCode())
                    .isEqualTo(204);

            assertThat(logs.lines()).isNotEmpty().noneMatch(line -> line.contains("alpha-token")
                    || line.contains("beta-token") || line.contains("gamma-token") || line.contains("wrong-token"));
        }
    }
}
