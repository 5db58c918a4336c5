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
}
