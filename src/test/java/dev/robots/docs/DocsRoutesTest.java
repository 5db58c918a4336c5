package dev.robots.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.ApiContract;
import dev.robots.RunningService;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The document and the docs page obey the rules of every other route: a GET answers HEAD, another method is a 405
 * problem with {@code Allow}, and nothing of the Swagger UI webjar is served but the two files the page loads. Sent
 * with a plain client: these answers are outside the OpenAPI document that {@link RunningService#send} checks.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DocsRoutesTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @RegisterExtension
    final RunningService service = RunningService.onFresh("h2");

    @Test
    void every_docs_route_answers_head_like_its_get() throws Exception {
        for (String path : documents()) {
            var get = send("GET", path);
            var head = send("HEAD", path);

            assertThat(get.statusCode()).as(path).isEqualTo(200);
            assertThat(head.statusCode()).as("HEAD " + path).isEqualTo(200);
            assertThat(head.headers().firstValue("Content-Type")).as("HEAD " + path)
                    .isEqualTo(get.headers().firstValue("Content-Type"));
            assertThat(head.body()).as("HEAD " + path).isEmpty();
        }
    }

    @Test
    void another_method_on_a_docs_route_is_a_405_problem_with_allow() throws Exception {
        for (String path : documents()) {
            for (String method : List.of("PUT", "POST", "DELETE", "OPTIONS")) {
                var response = send(method, path);

                assertThat(response.statusCode()).as(method + " " + path).isEqualTo(405);
                assertThat(response.headers().firstValue("Content-Type")).as(method + " " + path)
                        .hasValue("application/problem+json");
                assertThat(response.headers().firstValue("Allow")).as(method + " " + path).hasValue("GET, HEAD");
                assertThat(response.body()).as(method + " " + path).contains("\"status\":405");
            }
        }
    }

    @Test
    void the_webjars_demo_pages_and_other_files_are_not_served() throws Exception {
        String version = version();
        for (String file : List.of("index.html", "swagger-initializer.js", "oauth2-redirect.html", "index.css",
                "swagger-ui.css/", "swagger-ui.js", "favicon-32x32.png")) {
            String path = "/docs/swagger-ui/" + version + "/" + file;
            var response = send("GET", path);

            assertThat(response.statusCode()).as(path).isEqualTo(404);
            assertThat(response.headers().firstValue("Content-Type")).as(path).hasValue("application/problem+json");
        }
        for (String path : List.of("/docs/swagger-ui", "/docs/swagger-ui/", "/docs/swagger-ui/" + version)) {
            var response = send("GET", path);

            assertThat(response.statusCode()).as(path).isEqualTo(404);
            assertThat(response.headers().firstValue("Content-Type")).as(path).hasValue("application/problem+json");
        }
    }

    @Test
    void every_docs_file_has_validators_that_stay_put_and_answers_a_current_copy_with_304() throws Exception {
        for (String path : documents()) {
            var first = send("GET", path);
            Thread.sleep(1_100); // a Last-Modified of "now" would have moved by a second
            var again = send("GET", path);
            String etag = first.headers().firstValue("ETag").orElseThrow(() -> new AssertionError(path + ": no ETag"));
            String modified = first.headers().firstValue("Last-Modified")
                    .orElseThrow(() -> new AssertionError(path + ": no Last-Modified"));
            assertThat(again.headers().firstValue("ETag")).as(path).hasValue(etag);
            assertThat(again.headers().firstValue("Last-Modified")).as(path).hasValue(modified);
            assertThat(send("HEAD", path).headers().firstValue("ETag")).as("HEAD " + path).hasValue(etag);

            for (var condition : List.of(List.of("If-None-Match", etag), List.of("If-None-Match", "W/" + etag),
                    List.of("If-None-Match", "\"other\", " + etag), List.of("If-Modified-Since", modified))) {
                for (String method : List.of("GET", "HEAD")) {
                    var current = send(method, path, condition.get(0), condition.get(1));
                    assertThat(current.statusCode()).as(method + " " + path + " " + condition).isEqualTo(304);
                    // The document lists the 304 (it did not, where the README promised it).
                    assertThat(ApiContract.get().violations(current)).as(method + " " + path).isEmpty();
                    assertThat(current.headers().firstValue("ETag")).as(path).hasValue(etag);
                    assertThat(current.body()).as(path).isEmpty();
                }
            }
            String earlier = DateTimeFormatter.RFC_1123_DATE_TIME.format(
                    ZonedDateTime.parse(modified, DateTimeFormatter.RFC_1123_DATE_TIME).minusDays(1));
            assertThat(send("GET", path, "If-Modified-Since", earlier).statusCode()).as(path).isEqualTo(200);
            assertThat(send("GET", path, "If-None-Match", "\"other\"").statusCode()).as(path).isEqualTo(200);
            // Read as on a robot: text that is no entity tag is a 400 problem, not a 304 beside a tag that matches.
            var unreadable = send("GET", path, "If-None-Match", "other, " + etag);
            assertThat(unreadable.statusCode()).as(path).isEqualTo(400);
            assertThat(unreadable.headers().firstValue("Content-Type")).as(path).hasValue("application/problem+json");
            // Not with the file's caching headers, which a shared cache would keep the problem under for a day.
            assertThat(unreadable.headers().firstValue("Cache-Control")).as(path).isEmpty();
            assertThat(unreadable.headers().firstValue("ETag")).as(path).isEmpty();
            assertThat(send("GET", path, "If-Modified-Since", "yesterday").statusCode()).as(path).isEqualTo(200);

            // The obsolete forms a recipient must read too (RFC 9110 section 5.6.7); they were ignored.
            var at = ZonedDateTime.parse(modified, DateTimeFormatter.RFC_1123_DATE_TIME);
            for (var form : List.of(DateTimeFormatter.ofPattern("EEEE, dd-MMM-yy HH:mm:ss 'GMT'", Locale.US),
                    DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US))) {
                assertThat(send("GET", path, "If-Modified-Since", form.format(at)).statusCode())
                        .as(path + " " + form.format(at)).isEqualTo(304);
                assertThat(send("GET", path, "If-Modified-Since", form.format(at.minusDays(1))).statusCode())
                        .as(path + " " + form.format(at.minusDays(1))).isEqualTo(200);
                assertThat(send("GET", path, "If-Unmodified-Since", form.format(at.minusDays(1))).statusCode())
                        .as(path + " If-Unmodified-Since " + form.format(at.minusDays(1))).isEqualTo(412);
            }
        }
    }

    /**
     * A GET under an If-Match that fails is not performed (RFC 9110 section 13.1.1), here as on a robot: it was
     * ignored, and the file came back 200. If-Unmodified-Since, without If-Match, is held to the file's Last-Modified.
     */
    @Test
    void a_failed_if_match_on_a_docs_file_is_a_412_with_its_etag() throws Exception {
        for (String path : documents()) {
            String etag = send("GET", path).headers().firstValue("ETag").orElseThrow();
            String modified = send("GET", path).headers().firstValue("Last-Modified").orElseThrow();
            String earlier = DateTimeFormatter.RFC_1123_DATE_TIME.format(
                    ZonedDateTime.parse(modified, DateTimeFormatter.RFC_1123_DATE_TIME).minusDays(1));
            for (var condition : List.of(List.of("If-Match", "\"other\""), List.of("If-Match", "W/" + etag),
                    List.of("If-Unmodified-Since", earlier))) {
                for (String method : List.of("GET", "HEAD")) {
                    var failed = send(method, path, condition.get(0), condition.get(1));
                    assertThat(failed.statusCode()).as(method + " " + path + " " + condition).isEqualTo(412);
                    assertThat(failed.headers().firstValue("ETag")).as(path).hasValue(etag);
                    assertThat(failed.headers().firstValue("Cache-Control")).as(path).isEmpty();
                    assertThat(ApiContract.get().violations(failed)).as(method + " " + path).isEmpty();
                }
                // The sentence names the condition that failed: one under If-Unmodified-Since said "If-Match does
                // not match", a header the client had not sent (found by review 9).
                assertThat(send("GET", path, condition.get(0), condition.get(1)).body()).as(path + condition)
                        .contains(condition.get(0)).doesNotContain(condition.get(0).equals("If-Match")
                                ? "If-Unmodified-Since" : "If-Match");
            }
            for (var condition : List.of(List.of("If-Match", etag), List.of("If-Match", "*"),
                    List.of("If-Match", "\"other\", " + etag), List.of("If-Unmodified-Since", modified))) {
                assertThat(send("GET", path, condition.get(0), condition.get(1)).statusCode()).as(path + condition)
                        .isEqualTo(200);
            }
            assertThat(send("GET", path, "If-Match", "nonsense").statusCode()).as(path).isEqualTo(400);
        }
    }

    /**
     * Swagger UI's "Try it out" fills each parameter with its example and sends it: every visitor's create carried one
     * fixed Idempotency-Key (a second create with the example body was a replay, another name a 422), and a read
     * carried If-Match "3" (a 412 for any robot not at version 3). An optional header parameter has no example to
     * send; the page asks for no icon, whose 404 was an error in its console.
     */
    @Test
    void the_page_sends_no_header_the_visitor_did_not_write() throws Exception {
        var document = new io.vertx.core.json.JsonObject(send("GET", "/openapi.json").body());
        var parameters = document.getJsonObject("components").getJsonObject("parameters");
        for (String name : parameters.fieldNames()) {
            var parameter = parameters.getJsonObject(name);
            if ("header".equals(parameter.getString("in")) && !parameter.getBoolean("required", false)) {
                assertThat(parameter.containsKey("example") || parameter.containsKey("examples")).as(name).isFalse();
                assertThat(parameter.getJsonObject("schema").containsKey("default")).as(name).isFalse();
            }
        }
        assertThat(send("GET", "/docs").body()).contains("<link rel=\"icon\" href=\"data:,\">");
    }

    @Test
    void a_version_of_swagger_ui_the_jar_does_not_hold_is_a_404_problem() throws Exception {
        for (String path : List.of("/docs/swagger-ui/0.0.1/swagger-ui.css", "/docs/swagger-ui/9.9.9/swagger-ui-bundle.js")) {
            var response = send("GET", path);
            assertThat(response.statusCode()).as(path).isEqualTo(404);
            assertThat(response.headers().firstValue("Content-Type")).as(path).hasValue("application/problem+json");
        }
    }

    /** Every path of the document and the page, the page's own scripts and styles included. */
    private List<String> documents() throws Exception {
        String version = version();
        return List.of("/openapi.json", "/openapi.yaml", "/docs", "/docs/init.js",
                "/docs/swagger-ui/" + version + "/swagger-ui.css",
                "/docs/swagger-ui/" + version + "/swagger-ui-bundle.js");
    }

    /** The webjar's version, as the page names it. */
    private String version() throws Exception {
        return send("GET", "/docs").body().replaceAll("(?s).*/docs/swagger-ui/([^/]+)/swagger-ui\\.css.*", "$1");
    }

    private HttpResponse<String> send(String method, String path, String... headers)
            throws IOException, InterruptedException {
        var request = HttpRequest.newBuilder(service.uri(path)).timeout(Duration.ofSeconds(20))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
