package dev.robots.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Swagger UI files the page loads: another version's path is a 404 problem, a Range under an If-Range that does
 * not match gets the whole file (RFC 9110 section 13.1.5), and their dates are IMF-fixdates, day of two digits.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DocsAssetsTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String IMF_FIXDATE =
            "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT";

    @RegisterExtension
    final RunningService service = RunningService.onFresh("h2");

    @Test
    void another_versions_file_is_a_404_problem() throws Exception {
        for (String file : List.of("swagger-ui.css", "swagger-ui-bundle.js")) {
            for (String method : List.of("GET", "HEAD")) {
                var response = send(HttpRequest.newBuilder(service.uri("/docs/swagger-ui/0.0.1/" + file))
                        .method(method, HttpRequest.BodyPublishers.noBody()));
                assertThat(response.statusCode()).as(method + " " + file).isEqualTo(404);
                assertThat(response.headers().firstValue("Content-Type")).as(method + " " + file)
                        .hasValue("application/problem+json");
            }
        }
    }

    @Test
    void a_range_under_an_if_range_that_does_not_match_gets_the_whole_file() throws Exception {
        String path = "/docs/swagger-ui/" + version() + "/swagger-ui.css";
        var whole = send(HttpRequest.newBuilder(service.uri(path)));
        assertThat(whole.statusCode()).isEqualTo(200);
        for (String validator : List.of("\"not-the-tag\"", "Thu, 01 Jan 1970 00:00:00 GMT")) {
            var response = send(HttpRequest.newBuilder(service.uri(path)).header("Range", "bytes=0-9")
                    .header("If-Range", validator));
            assertThat(response.statusCode()).as(validator).isEqualTo(200);
            assertThat(response.body()).as(validator).isEqualTo(whole.body());
        }
    }

    @Test
    void the_files_dates_are_imf_fixdates() throws Exception {
        var response = send(HttpRequest.newBuilder(service.uri("/docs/swagger-ui/" + version() + "/swagger-ui.css")));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().allValues("Date")).singleElement().asString().matches(IMF_FIXDATE);
        assertThat(response.headers().allValues("Last-Modified")).allSatisfy(date -> assertThat(date)
                .matches(IMF_FIXDATE));
    }

    /** The webjar's version, as the page names it. */
    private String version() throws Exception {
        return send(HttpRequest.newBuilder(service.uri("/docs"))).body()
                .replaceAll("(?s).*/docs/swagger-ui/([^/]+)/swagger-ui\\.css.*", "$1");
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return HTTP.send(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
