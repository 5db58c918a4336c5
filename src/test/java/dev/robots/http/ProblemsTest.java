package dev.robots.http;

import dev.robots.LogCapture;
import dev.robots.db.Database;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.SQLTransientConnectionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import static org.assertj.core.api.Assertions.assertThat;

/** How failures that no handler turned into a problem reach the caller: a 500 for bugs, a 503 for the database. */
class ProblemsTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static Vertx vertx;
    private static HttpServer server;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        Router router = Router.router(vertx);
        Problems.install(router);
        router.get("/bug").handler(ctx -> {
            throw new IllegalStateException("secret internals");
        });
        router.get("/async-bug").handler(ctx -> Future.failedFuture(new NullPointerException("deep inside"))
                .onFailure(ctx::fail));
        router.get("/database-down").handler(ctx -> ctx.fail(new SQLTransientConnectionException("refused")));
        router.get("/bad-form").handler(ctx -> ctx.fail(new io.netty.handler.codec.http.multipart.HttpPostRequestDecoder
                .ErrorDataDecoderException("Bad string: 'robot_id=%ZZ' in QueryStringDecoder internals")));
        server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await();
    }

    @AfterAll
    static void stop() {
        vertx.close().await();
    }

    private static HttpResponse<String> get(String path, String requestId) throws Exception {
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + path));
        if (requestId != null) {
            request.header("X-Request-Id", requestId);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void a_form_that_cannot_be_decoded_is_a_400_that_names_no_decoder_internals() throws Exception {
        var response = get("/bad-form", null);
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(response.body()).getString("detail")).contains("robot_id")
                .doesNotContain("QueryStringDecoder").doesNotContain("Bad string");
    }

    @Test
    void a_bug_is_a_500_problem_with_the_request_id_and_no_internals() throws Exception {
        for (String path : new String[] {"/bug", "/async-bug"}) {
            var response = get(path, "req-42");
            assertThat(response.statusCode()).isEqualTo(500);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(new JsonObject(response.body()).getString("detail")).contains("req-42");
            assertThat(response.body()).doesNotContain("secret").doesNotContain("deep inside")
                    .doesNotContain("Exception");
        }
    }

    @Test
    void an_outage_logs_a_line_a_second_not_one_per_request() throws Exception {
        try (var logs = new LogCapture()) {
            Thread.sleep(1_100); // past any line an earlier test logged
            long started = System.nanoTime();
            for (int i = 0; i < 50; i++) {
                assertThat(get("/database-down", null).statusCode()).isEqualTo(503);
            }
            long seconds = (System.nanoTime() - started) / 1_000_000_000L;
            Thread.sleep(1_100);
            assertThat(get("/database-down", null).statusCode()).isEqualTo(503); // its line reports the rest

            var lines = logs.lines().stream().filter(line -> line.startsWith("Database unavailable")).toList();
            assertThat(lines.size()).isBetween(2, (int) seconds + 3);
            var more = Pattern.compile("and (\\d+) more requests since");
            long reported = lines.size() + lines.stream().map(more::matcher).filter(Matcher::find)
                    .mapToLong(m -> Long.parseLong(m.group(1))).sum();
            assertThat(reported).as("every failed request logged or counted").isEqualTo(51);
        }
    }

    @Test
    void an_unreachable_database_is_a_503_with_retry_after() throws Exception {
        var response = get("/database-down", null);
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.headers().firstValue("Retry-After")).hasValue("2");
        assertThat(new JsonObject(response.body()).getString("detail")).contains("database");
    }
}
