package dev.robots.http;

import static dev.robots.http.Raw.AUTH;
import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import java.sql.Connection;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A broken chunk pipelined behind a request that waits on the database, with a short head deadline: the connection's
 * head timer took the broken body's end of reading for a refused head and closed the connection at its deadline,
 * under the request ahead, whose robot was created and whose 201 was never sent (found by review). PostgreSQL, whose
 * table lock holds the create up.
 */
class BrokenChunkBehindSlowRequestTest {
    @RegisterExtension
    final RunningService service = RunningService.onFresh("postgresql", Map.of("REQUEST_HEAD_TIMEOUT_MS", "100"));

    @Test
    void the_request_ahead_is_answered_then_the_broken_one() throws Exception {
        String body = "{\"name\": \"ahead\"}";
        String post = "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH + "Content-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body;
        String broken = "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        try (Connection holder = service.database().connect()) {
            holder.setAutoCommit(false);
            holder.createStatement().execute("LOCK TABLE robots IN EXCLUSIVE MODE");
            var release = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(600); // six head deadlines
                    holder.rollback();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            var answer = Raw.exchange(service.uri("/").getPort(), post + broken);
            release.join();
            assertThat(answer.everyStatus()).as(answer.text()).containsExactly(201, 400);
            assertThat(answer.text()).contains("malformed chunk");
        }
    }
}
