package dev.robots.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import io.netty.channel.uring.IoUring;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A client that sends its requests and then half-closes the connection (shuts down its output) gets an answer to each
 * request it sent whole, then the close: answers from the read cache (on io_uring none came back, epoll got them),
 * and answers that wait on the database (a robot created, a robot looked up), which the close used to cut off: the
 * robot was created and its 201 never sent; also many pipelined behind one that waits. A request whose body the end
 * cut short gets no answer, and the connection closes once those before it are answered; one the decoder refuses gets
 * its problem. On both transports ({@link dev.robots.config.IoTransport}).
 */
class HalfCloseTest {
    private static final String GET = "GET /v1/robots/1 HTTP/1.1\r\nHost: x\r\n\r\n";

    private static String post(String name) {
        String body = "{\"name\": \"" + name + "\"}";
        return "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + Raw.AUTH + "Content-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body;
    }

    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll"})
    void answers_written_before_a_half_close_go_out_before_the_close(String transport) throws Exception {
        Assumptions.assumeTrue(!transport.equals("io_uring") || IoUring.isAvailable(), "io_uring unavailable here");
        try (var service = RunningService.startOnFresh("h2", Map.of("IO_TRANSPORT", transport))) {
            int port = service.app().port();
            long id = service.create("half");
            assertThat(id).isEqualTo(1);
            assertThat(service.get("/v1/robots/1").statusCode()).isEqualTo(200); // now cached

            for (int i = 0; i < 20; i++) {
                var read = Raw.halfClosed(port, GET);
                assertThat(read.statuses()).as(read.text()).containsExactly(200);
                assertThat(read.closed()).isTrue();
            }
            var pipelined = Raw.halfClosed(port, GET.repeat(3));
            // The answers follow each other on one line (a body has no line end), so they are counted, not parsed.
            assertThat(pipelined.text().split("HTTP/1.1 200 OK", -1)).as(pipelined.text()).hasSize(4);
            assertThat(pipelined.closed()).isTrue();

            for (int i = 0; i < 10; i++) {
                var created = Raw.halfClosed(port, post("half-" + i));
                assertThat(created.statuses()).as(created.text()).containsExactly(201);
                assertThat(created.text()).contains("\"name\":\"half-" + i + "\"");
                assertThat(created.closed()).isTrue();

                // Not cached: looked up in the database, so the answer is written after the end was read.
                var missing = Raw.halfClosed(port, "GET /v1/robots/" + (1_000 + i) + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(missing.statuses()).as(missing.text()).containsExactly(404);
                assertThat(missing.closed()).isTrue();
            }
            assertThat(service.get("/v1/robots/11").statusCode()).as("one robot per POST").isEqualTo(200);
            assertThat(service.get("/v1/robots/12").statusCode()).isEqualTo(404);

            var cut = Raw.halfClosed(port, "POST /v1/robots HTTP/1.1\r\nHost: x\r\n" + Raw.AUTH
                    + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\": \"cut");
            assertThat(cut.text()).as("a body cut short is no request").isEmpty();
            assertThat(cut.closed()).as("closed at once, not left to the idle timeout").isTrue();
            assertThat(service.get("/v1/robots/12").statusCode()).isEqualTo(404);

            // Pipelined behind a POST that waits on the database: on epoll, Vert.x resumed reading once the queue went
            // down, and the read closed the channel under the last answer (N requests, N-1 answers, the Nth applied).
            String posts = "";
            for (int i = 0; i < 8; i++) {
                posts += post("queued-" + i);
            }
            var queued = Raw.halfClosed(port, posts + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".repeat(5));
            assertThat(queued.everyStatus()).as(queued.text()).containsExactly(201, 201, 201, 201, 201, 201, 201, 201,
                    200, 200, 200, 200, 200);
            assertThat(queued.closed()).isTrue();

            // A whole request, then one the end cut short: the first is answered (it was applied), then the close.
            var wholeThenCut = Raw.halfClosed(port, post("whole") + "POST /v1/robots HTTP/1.1\r\nHost: x\r\n"
                    + Raw.AUTH + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"na");
            assertThat(wholeThenCut.everyStatus()).as(wholeThenCut.text()).containsExactly(201);
            assertThat(wholeThenCut.closed()).isTrue();

            // A whole request, then one the decoder refuses (its length ambiguous): both answered, in order.
            var wholeThenRefused = Raw.halfClosed(port, post("before-refused") + "POST /v1/robots HTTP/1.1\r\n"
                    + "Host: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
            assertThat(wholeThenRefused.everyStatus()).as(wholeThenRefused.text()).containsExactly(201, 400);
            assertThat(wholeThenRefused.closed()).isTrue();

            var nothing = Raw.halfClosed(port, "");
            assertThat(nothing.text()).isEmpty();
            assertThat(nothing.closed()).as("closed at once, not left to the idle timeout").isTrue();
        }
    }
}
