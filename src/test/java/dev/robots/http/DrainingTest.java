package dev.robots.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Once shutdown has begun, an answer says {@code Connection: close} and the connection does close after it: a request
 * pipelined behind it is not carried out. It was, and answered {@code close} as well, so a client that took the first
 * answer at its word took the second request for one never carried out, and might send a POST again.
 */
class DrainingTest {
    @Test
    void nothing_pipelined_behind_an_answer_that_says_close_is_carried_out() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            var shuttingDown = new AtomicBoolean(true);
            var carriedOut = new AtomicInteger();
            // As the application's (no h2c, no WebSocket compression offered).
            var options = new HttpServerOptions().setHttp2ClearTextEnabled(false)
                    .setPerMessageWebSocketCompressionSupported(false).setPerFrameWebSocketCompressionSupported(false);
            Router router = Router.router(vertx);
            Draining.mount(router, shuttingDown::get);
            // A write that takes a moment, as one waiting on the database does: the rest are read meanwhile.
            router.post("/work").handler(ctx -> {
                carriedOut.incrementAndGet();
                vertx.setTimer(100, t -> ctx.response().end("done"));
            });
            var server = Framing.install(vertx.createHttpServer(options), options, Duration.ofSeconds(10), router,
                    "POST", new Listeners(), Framing.Unrouted.NONE).listen(0, "127.0.0.1").await();

            String work = "POST /work HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
            var answer = Raw.exchange(server.actualPort(), work.repeat(3));
            assertThat(answer.everyStatus()).as(answer.text()).containsExactly(200);
            assertThat(answer.text()).containsIgnoringCase("connection: close");
            assertThat(answer.closed()).isTrue();
            assertThat(carriedOut).as("requests carried out").hasValue(1);

            shuttingDown.set(false);
            var before = Raw.exchange(server.actualPort(), work.repeat(2) + work.replace("\r\n\r\n",
                    "\r\nConnection: close\r\n\r\n"));
            assertThat(before.everyStatus()).as("not shutting down: all three").containsExactly(200, 200, 200);
        } finally {
            vertx.close().await();
        }
    }
}
