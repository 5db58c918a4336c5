package dev.robots.http;

import static dev.robots.http.Raw.AUTH;
import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.ApiContract;
import dev.robots.RunningService;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A path under {@code /v1/robots/} that no route serves ({@code /v1/robots/1/x}) is a 404 problem for every method,
 * as it is for GET. The robot read's route is a prefix for GET and HEAD ({@code /v1/robots/*}), so Vert.x Web took
 * such a path for that route's with another method, and answered any other method with a bare 405 of its own: no
 * body, no problem, and {@code allow: HEAD,GET} for a path whose GET is a 404 (found by review 9).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UnservedPathsTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @RegisterExtension
    final RunningService service = RunningService.onFresh("h2");

    @Test
    void every_method_on_a_path_no_route_serves_is_a_404_problem() throws Exception {
        long robot = service.create("target");
        for (String path : new String[] {"/v1/robots/" + robot + "/x", "/v1/robots/a/b/c",
                "/v1/robots/" + robot + "/repair;x", "/v1/robots/" + robot + "/repairs/x",
                "/v1/robots/" + robot + "/repair/x"}) {
            for (String method : new String[] {"GET", "HEAD", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"}) {
                var answer = HTTP.send(HttpRequest.newBuilder(URI.create(service.uri("/") + path.substring(1)))
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .header("Authorization", "Bearer " + RunningService.TOKEN).build(),
                        HttpResponse.BodyHandlers.ofString());
                String what = method + " " + path;
                assertThat(answer.statusCode()).as(what).isEqualTo(404);
                assertThat(answer.headers().firstValue("Content-Type")).as(what)
                        .hasValue(Problems.CONTENT_TYPE);
                assertThat(answer.headers().firstValue("Allow")).as(what).isEmpty();
                if (!method.equals("HEAD")) {
                    assertThat(new JsonObject(answer.body()).getInteger("status")).as(what).isEqualTo(404);
                }
                assertThat(ApiContract.get().violations(answer)).as(what).isEmpty();
            }
        }
        // Raw too: the spelling a client library would not send, and the write behind a token.
        var raw = Raw.exchange(service.uri("/").getPort(), "POST /v1/robots/" + robot + "/repair;x HTTP/1.1\r\n"
                + "Host: x\r\n" + AUTH + "Content-Length: 0\r\nConnection: close\r\n\r\n");
        assertThat(raw.statuses()).as(raw.text()).containsExactly(404);
        assertThat(raw.text()).contains("application/problem+json");
        assertThat(service.get("/v1/robots/" + robot + "/repairs").body()).contains("\"repairs\":[]");
    }

    /**
     * A malformed percent escape in the query is one 400 on every route, before any runs: the list answered 500 (its
     * parser threw), the create a 201 (it never read its query), the read and the probes a 200.
     */
    @Test
    void a_malformed_escape_in_the_query_is_the_same_400_on_every_route() throws Exception {
        long robot = service.create("target");
        String body = "{\"name\": \"escaped\"}";
        for (String request : new String[] {"GET /v1/robots?q=%ZZ", "GET /v1/robots?%", "GET /v1/robots/" + robot
                + "?q=%4", "HEAD /v1/robots?limit=%G1", "GET /healthz?x=%", "GET /openapi.json?x=%ZZ",
                "DELETE /v1/robots/" + robot + "?x=%ZZ", "POST /v1/robots?x=%ZZ"}) {
            var raw = Raw.exchange(service.uri("/").getPort(), request + " HTTP/1.1\r\nHost: x\r\n" + AUTH
                    + (request.startsWith("POST") ? "Content-Type: application/json\r\nContent-Length: "
                            + body.length() + "\r\n" : "")
                    + "Connection: close\r\n\r\n" + (request.startsWith("POST") ? body : ""));
            assertThat(raw.statuses()).as(request + ": " + raw.text()).containsExactly(400);
            assertThat(raw.text()).as(request).contains("application/problem+json");
            if (!request.startsWith("HEAD")) {
                assertThat(raw.text()).as(request).contains("percent escape that is not two hexadecimal digits");
            }
        }
        assertThat(service.get("/v1/robots/" + robot).statusCode()).isEqualTo(200);
        assertThat(service.get("/v1/robots").body()).doesNotContain("escaped");
    }
}
