package dev.robots.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.robots.RunningService;
import dev.robots.config.Config;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code /metrics} is served on {@code METRICS_PORT}, a listener of its own, and not on the API's public port. */
class MetricsPortTest {
    @RegisterExtension
    static final RunningService service = RunningService.onFresh("h2");

    @Test
    void the_api_port_answers_404_on_metrics() {
        assertThat(service.app().metricsPort()).isNotEqualTo(service.app().port());
        var response = service.get("/metrics");

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(new JsonObject(response.body()).getInteger("status")).isEqualTo(404);
    }

    @Test
    void the_metrics_port_serves_prometheus_text() {
        service.create("scraped");
        var response = service.send(HttpRequest.newBuilder(service.metricsUri("/metrics"))
                .header("X-Request-Id", "scrape-42"));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        assertThat(response.headers().firstValue("X-Request-Id")).hasValue("scrape-42"); // as the API's port does
        assertThat(response.body()).contains("http_server_requests_seconds_count{method=\"POST\",route=\"/v1/robots\"");
    }

    @Test
    void the_metrics_port_serves_nothing_else() {
        for (var request : new HttpRequest.Builder[] {
            HttpRequest.newBuilder(service.metricsUri("/v1/robots/1")),
            HttpRequest.newBuilder(service.metricsUri("/healthz")),
        }) {
            HttpResponse<String> response = service.send(request);
            assertThat(response.statusCode()).as(request.build().toString()).isEqualTo(404);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(new JsonObject(response.body()).getString("detail")).contains("GET /metrics only");
        }
        var post = service.send(HttpRequest.newBuilder(service.metricsUri("/metrics"))
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
    }

    @Test
    void the_metrics_port_refuses_non_canonical_spellings_of_its_path() {
        for (String path : new String[] {"//metrics", "/%6detrics", "/x/../metrics", "/./metrics"}) {
            var response = service.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + service.app().metricsPort() + path)));

            assertThat(response.statusCode()).as(path).isEqualTo(400);
            assertThat(response.headers().firstValue("Content-Type")).as(path).hasValue("application/problem+json");
        }
    }

    @Test
    void the_same_number_for_both_serves_metrics_on_the_api_port() throws IOException {
        int port;
        try (var probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        try (var shared = RunningService.startOnFresh("h2",
                Map.of("PORT", Integer.toString(port), "METRICS_PORT", Integer.toString(port)))) {
            assertThat(shared.app().metricsPort()).isEqualTo(shared.app().port()).isEqualTo(port);
            var response = shared.get("/metrics");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).contains("robots_references_pending ");
        }
    }

    @Test
    void metrics_port_defaults_to_9090_and_must_be_a_port() {
        assertThat(Config.from(Map.of()).metricsPort()).isEqualTo(9090);
        assertThat(Config.from(Map.of("METRICS_PORT", "9100")).metricsOnApiPort()).isFalse();
        assertThat(Config.from(Map.of("PORT", "9100", "METRICS_PORT", "9100")).metricsOnApiPort()).isTrue();
        assertThat(Config.from(Map.of("PORT", "0", "METRICS_PORT", "0")).metricsOnApiPort())
                .as("0 is a free port of its own for each").isFalse();
        assertThat(catchThrowable(() -> Config.from(Map.of("METRICS_PORT", "metrics"))))
                .hasMessage("METRICS_PORT must be a whole number from 0 to 65535, not 'metrics'");
    }
}
