package dev.robots.observability;

import dev.robots.LogCapture;
import dev.robots.RunningService;
import dev.robots.config.Config;
import dev.robots.http.Health;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.jdbcclient.JDBCConnectOptions;
import io.vertx.jdbcclient.JDBCPool;
import io.vertx.sqlclient.PoolOptions;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.logging.Level;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import static dev.robots.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/** Probes and metrics of the running service. */
class ObservabilityTest {
    /** A sample line of the Prometheus text format: name, optional labels, value. */
    private static final Pattern SAMPLE = Pattern.compile(
            "[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"(\\\\.|[^\"\\\\])*\",?)*\\})? "
                    + "(-?[0-9.]+([eE][-+]?[0-9]+)?|NaN|[+-]Inf)");
    @RegisterExtension
    static final RunningService service = RunningService.onFresh("h2");

    @Test
    void liveness_and_readiness_answer_200_when_all_is_well() {
        var live = service.get("/healthz");
        var ready = service.get("/readyz");

        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(live.body()).getString("status")).isEqualTo("up");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(ready.body()).getString("status")).isEqualTo("ready");
    }

    @Test
    void metrics_are_prometheus_text_and_move_with_requests() throws InterruptedException {
        long id = service.create("measured");
        double before = requests(scrape(), "/v1/robots/:id", "200");
        for (int i = 0; i < 5; i++) {
            service.get("/v1/robots/" + id);
        }
        assertThat(service.get("/no/such/route").statusCode()).isEqualTo(404);
        assertThat(service.get("/v1/robots/999999").statusCode()).isEqualTo(404); // answered by the failure handler
        // A request is measured once its response is written, which can be a moment after the client has read it.
        String after = scrape();
        for (long until = System.nanoTime() + 5_000_000_000L; System.nanoTime() < until
                && (requests(after, "/v1/robots/:id", "200") - before < 5 || requests(after, "unmatched", "404") == 0
                        || requests(after, "/v1/robots/:id", "404") == 0); after = scrape()) {
            Thread.sleep(20);
        }

        for (String line : after.lines().toList()) {
            if (!line.isEmpty() && !line.startsWith("#")) {
                assertThat(line).matches(SAMPLE);
            }
        }
        assertThat(requests(after, "/v1/robots/:id", "200") - before).isEqualTo(5);
        assertThat(requests(after, "unmatched", "404")).isPositive(); // a path's own text would be unbounded
        assertThat(requests(after, "/v1/robots/:id", "404")).isPositive();
        assertThat(after).contains("http_server_requests_seconds_bucket{")
                .contains("robots_references_pending ")
                .contains("robots_background_tasks_pending ")
                .contains("robots_count_flush_seconds_count ")
                .contains("robots_count_flush_failures_total ")
                .contains("vertx_pool_in_use{")
                // Vert.x's own HTTP server meters are off: RequestMetrics measures requests at a fraction of the cost.
                .doesNotContain("vertx_http_server_");
        // The JVM's meters are bound a second after the start, off its path, one binder after the other.
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!(after.contains("jvm_memory_used_bytes{") && after.contains("jvm_gc_live_data_size_bytes"))
                && System.nanoTime() < deadline) {
            Thread.sleep(50);
            after = scrape();
        }
        assertThat(after).contains("jvm_memory_used_bytes{").contains("jvm_gc_live_data_size_bytes");
    }

    @Test
    void a_malformed_percent_escape_is_measured_and_logs_no_stack_trace() throws Exception {
        double before = requests(scrape(), "unmatched", "400");
        try (var logs = new LogCapture(Level.WARNING); var socket = new Socket("127.0.0.1", service.uri("/").getPort())) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write("GET /v1/%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(answer).startsWith("HTTP/1.1 400 ").contains("application/problem+json");
            // Measured once the answer is written, which can be a moment after the client has read it.
            String after = eventually(Duration.ofSeconds(5), ObservabilityTest::scrape,
                    metrics -> requests(metrics, "unmatched", "400") > before);
            assertThat(requests(after, "unmatched", "400")).isEqualTo(before + 1);
            assertThat(logs.lines()).isEmpty();
        }
    }

    @Test
    void a_refused_form_repair_is_measured_under_its_own_route() throws InterruptedException {
        // The GET route of /v1/robots/:id is mounted first, and its template matches /v1/robots/repair too: a failed
        // form repair (answered by the failure handler, no current route) was measured as POST /v1/robots/:id, a
        // route that does not exist, and left out of the form route's error rate.
        String form = "application/x-www-form-urlencoded";
        assertThat(service.send("POST", "/v1/robots/repair", form, "robot_id=abc").statusCode()).isEqualTo(400);
        assertThat(service.send("POST", "/v1/robots/repair", form, "robot_id=999999").statusCode()).isEqualTo(404);

        String after = eventually(Duration.ofSeconds(5), ObservabilityTest::scrape,
                metrics -> requests(metrics, "POST", "/v1/robots/repair", "404") > 0);
        assertThat(requests(after, "POST", "/v1/robots/repair", "400")).isEqualTo(1);
        assertThat(requests(after, "POST", "/v1/robots/repair", "404")).isEqualTo(1);
        assertThat(after).doesNotContain("method=\"POST\",route=\"/v1/robots/:id\"");
    }

    private static String scrape() {
        var response = service.send(HttpRequest.newBuilder(service.metricsUri("/metrics")));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        return response.body();
    }

    private static double requests(String metrics, String route, String code) {
        return requests(metrics, "GET", route, code);
    }

    private static double requests(String metrics, String method, String route, String code) {
        return metrics.lines()
                .filter(l -> l.startsWith("http_server_requests_seconds_count{")
                        && l.contains("route=\"" + route + "\"") && l.contains("status=\"" + code + "\"")
                        && l.contains("method=\"" + method + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    @Test
    void readiness_fails_with_retry_after_when_the_database_is_away_or_shutdown_has_begun_while_liveness_holds() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            var pool = JDBCPool.pool(vertx, new JDBCConnectOptions().setJdbcUrl("jdbc:h2:mem:probe"),
                    new PoolOptions().setMaxSize(1));
            var shuttingDown = new AtomicBoolean();
            Router router = Router.router(vertx);
            new Health(pool, shuttingDown::get).mount(router);
            var server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await();
            var http = HttpClient.newHttpClient();
            var base = URI.create("http://127.0.0.1:" + server.actualPort());

            assertThat(status(http, base.resolve("/readyz"))).isEqualTo(200);
            pool.close().await();
            var unavailable = http.send(HttpRequest.newBuilder(base.resolve("/readyz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(unavailable.statusCode()).isEqualTo(503);
            assertThat(unavailable.headers().firstValue("Retry-After")).isPresent();
            shuttingDown.set(true);
            var stopping = http.send(HttpRequest.newBuilder(base.resolve("/readyz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(stopping.statusCode()).isEqualTo(503);
            assertThat(stopping.headers().firstValue("Retry-After")).isPresent();
            assertThat(status(http, base.resolve("/healthz"))).isEqualTo(200);
        } finally {
            vertx.close().await();
        }
    }

    private static int status(HttpClient http, URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void an_unknown_setting_value_stops_the_start_with_a_clear_message() {
        var error = org.assertj.core.api.Assertions.catchThrowable(() -> Config.from(Map.of("PORT", "eighty")));
        assertThat(error).hasMessage("PORT must be a whole number from 0 to 65535, not 'eighty'");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> Config.from(Map.of("LOG_FORMAT", "xml"))))
                .hasMessageContaining("LOG_FORMAT must be one of text, json");
    }
}
