package dev.robots.http;

import static dev.robots.http.Raw.AUTH;
import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.ApiContract;
import dev.robots.RunningService;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The writes that read a body answer {@code 417} to an {@code Expect} other than {@code 100-continue} and {@code 408}
 * to a body still arriving at the request's deadline; the OpenAPI document lists both for each of them (the README
 * documented 417, the document listed neither). Sent raw: Java's HTTP client refuses to send {@code Expect} itself,
 * so the contract check of {@link RunningService#send} never saw these answers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WriteRefusalsDocumentedTest {
    @RegisterExtension
    final RunningService service = RunningService.onFresh("h2", Map.of("REQUEST_TIMEOUT_MS", "500"));
    private final ApiContract contract = ApiContract.get();

    /** Operation, its request line, content type and a body it would take. */
    private record Write(String operation, String line, String type, String body) {
    }

    private List<Write> writes() {
        long id = service.create("R2-D2");
        return List.of(
                new Write("POST /v1/robots", "POST /v1/robots", "application/json", "{\"name\": \"R2\"}"),
                new Write("PATCH /v1/robots/{id}", "PATCH /v1/robots/" + id, "application/json", "{\"name\": \"R2\"}"),
                new Write("POST /v1/robots/repair", "POST /v1/robots/repair", "application/x-www-form-urlencoded",
                        "robot_id=" + id));
    }

    @Test
    void an_expectation_other_than_100_continue_is_a_documented_417() throws Exception {
        for (Write write : writes()) {
            var answer = Raw.exchange(port(), write.line() + " HTTP/1.1\r\nHost: x\r\n" + AUTH + "Content-Type: "
                    + write.type() + "\r\nExpect: 200-ok\r\nContent-Length: " + write.body().length()
                    + "\r\nConnection: close\r\n\r\n" + write.body());
            assertThat(answer.status()).as(write.operation() + ": " + answer.text()).isEqualTo(417);
            assertThat(listed(write.operation())).as(write.operation()).contains("417");
        }
    }

    /**
     * The writes that take no body answer it too, before anything is done: they have no BodyHandler to do it, and a
     * {@code DELETE} or a repair sent with {@code Expect: 200-ok} was carried out (204, 202) where the README promises
     * a 417 for "a write sent with an Expect other than 100-continue".
     */
    @Test
    void an_expectation_other_than_100_continue_on_a_write_without_a_body_is_a_documented_417_that_changes_nothing()
            throws Exception {
        long id = service.create("R2-D2");
        for (String operation : List.of("DELETE /v1/robots/{id}", "POST /v1/robots/{id}/repair")) {
            String line = operation.replace("{id}", Long.toString(id));
            var answer = Raw.exchange(port(), line + " HTTP/1.1\r\nHost: x\r\n" + AUTH
                    + "Expect: 200-ok\r\nConnection: close\r\n\r\n");
            assertThat(answer.status()).as(operation + ": " + answer.text()).isEqualTo(417);
            assertThat(answer.text()).contains("application/problem+json").contains("Expect: '200-ok'");
            assertThat(listed(operation)).as(operation).contains("417");
        }
        assertThat(service.get("/v1/robots/" + id).statusCode()).isEqualTo(200);
        assertThat(service.get("/v1/robots/" + id + "/repairs").body()).startsWith("{\"repairs\":[]");
    }

    @Test
    void a_body_still_arriving_at_the_deadline_is_a_documented_408() throws Exception {
        for (Write write : writes()) {
            // Half the body, then nothing: the deadline finds it still arriving.
            var answer = Raw.exchange(port(), write.line() + " HTTP/1.1\r\nHost: x\r\n" + AUTH + "Content-Type: "
                    + write.type() + "\r\nContent-Length: " + write.body().length() + "\r\n\r\n"
                    + write.body().substring(0, write.body().length() / 2));
            assertThat(answer.status()).as(write.operation() + ": " + answer.text()).isEqualTo(408);
            assertThat(listed(write.operation())).as(write.operation()).contains("408");
        }
    }

    private int port() {
        return service.uri("/").getPort();
    }

    /** The statuses the document lists for {@code operation} ("METHOD /path"). */
    private List<String> listed(String operation) {
        String[] parts = operation.split(" ");
        var responses = contract.document().at("/paths/" + ApiContract.escape(parts[1]) + "/"
                + parts[0].toLowerCase(java.util.Locale.ROOT) + "/responses");
        assertThat(responses.isMissingNode()).as(operation).isFalse();
        var statuses = new java.util.ArrayList<String>();
        responses.fieldNames().forEachRemaining(statuses::add);
        return statuses;
    }
}
