package dev.robots.http;

import static dev.robots.http.Raw.AUTH;
import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The statuses Vert.x Web answers by itself, {@code 417} (an {@code Expect} other than {@code 100-continue} on a
 * request whose body is read) and {@code 416} (a docs file's range past its end), say what was wrong, not only that
 * the request was refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RefusalSentencesTest {
    @RegisterExtension
    final RunningService service = RunningService.onFresh("h2");

    @Test
    void an_expectation_other_than_100_continue_is_a_417_that_names_it() throws Exception {
        String body = "{\"name\": \"R2\"}";
        var answer = Raw.exchange(service.uri("/").getPort(), "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "Content-Type: application/json\r\nExpect: 200-ok\r\nContent-Length: " + body.length()
                + "\r\nConnection: close\r\n\r\n" + body);
        assertThat(answer.status()).as(answer.text()).isEqualTo(417);
        var problem = new JsonObject(answer.text().substring(answer.text().indexOf('{')));
        assertThat(problem.getString("detail")).contains("Expect: '200-ok'").contains("100-continue");
        assertThat(service.get("/v1/robots").body()).isEqualTo("{\"robots\":[],\"next\":null}");
    }

    /**
     * A form past the decoder's limits (too many fields, a field name or value too long) is a 400 that says so and
     * names the one field the route takes. It was "its framing (a chunk size, say) is malformed" for a body framed
     * correctly, or "The request could not be read."
     */
    @Test
    void a_form_past_the_decoders_limits_is_a_400_that_says_what_the_form_takes() throws Exception {
        for (String form : new String[] {"a=1&".repeat(1000) + "robot_id=1", "r".repeat(10_000) + "=1",
                "robot_id=" + "1".repeat(10_000)}) {
            var answer = Raw.exchange(service.uri("/").getPort(), "POST /v1/robots/repair HTTP/1.1\r\nHost: x\r\n"
                    + AUTH + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + form.length()
                    + "\r\nConnection: close\r\n\r\n" + form);
            String what = form.substring(0, 20) + "... (" + form.length() + " bytes)";
            assertThat(answer.status()).as(what + ": " + answer.text()).isEqualTo(400);
            var problem = new JsonObject(answer.text().substring(answer.text().indexOf('{')));
            assertThat(problem.getString("detail")).as(what).contains("robot_id").doesNotContain("framing");
        }
    }

    /** A Host header that is not host[:port] is a 400 that names it; it was "The request could not be read." */
    @Test
    void a_malformed_host_header_is_a_400_that_says_so() throws Exception {
        for (String host : new String[] {"x y", "x:port", "[::1", "a/b"}) {
            var answer = Raw.exchange(service.uri("/").getPort(), "GET /v1/robots HTTP/1.1\r\nHost: " + host
                    + "\r\nConnection: close\r\n\r\n");
            assertThat(answer.status()).as(host + ": " + answer.text()).isEqualTo(400);
            var problem = new JsonObject(answer.text().substring(answer.text().indexOf('{')));
            assertThat(problem.getString("detail")).as(host).contains("Host header '" + host + "' is malformed");
        }
    }
}
