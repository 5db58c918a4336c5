package dev.robots;

import dev.robots.config.Config;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The real service on a free port of 127.0.0.1, and an HTTP client for it. */
public final class RunningService implements AutoCloseable {
    /** The token the service accepts for writes unless a test says otherwise; {@link #send} sends it. */
    public static final String TOKEN = "test-token-0123456789";

    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private final Application app;
    private final URI base;
    private final URI metricsBase;
    private boolean stopped;

    private RunningService(Application app) {
        this.app = app;
        this.base = URI.create("http://127.0.0.1:" + app.port());
        this.metricsBase = URI.create("http://127.0.0.1:" + app.metricsPort());
    }

    /** Starts the service on {@code database}, with settings in {@code overrides} on top. */
    public static RunningService start(TestDatabase database, Map<String, String> overrides) {
        var env = new HashMap<String, String>();
        env.put("PORT", "0");
        env.put("METRICS_PORT", "0"); // a free port of its own
        env.put("HOST", "127.0.0.1");
        env.put("COUNT_FLUSH_MS", "100");
        env.put("ACCESS_LOG", "false"); // the load tests would log thousands of lines; JsonLogsIT reads it
        env.put("API_TOKENS", TOKEN);
        env.putAll(database.env());
        env.putAll(overrides);
        return new RunningService(Application.start(Config.from(env)));
    }

    public static RunningService start(TestDatabase database) {
        return start(database, Map.of());
    }

    public Application app() {
        return app;
    }

    public URI uri(String path) {
        return base.resolve(path);
    }

    /** {@code path} on the metrics listener ({@code METRICS_PORT}). */
    public URI metricsUri(String path) {
        return metricsBase.resolve(path);
    }

    /** The Prometheus text of {@code GET /metrics} on the metrics port; fails unless it answers 200. */
    public String scrape() {
        var response = send(HttpRequest.newBuilder(metricsUri("/metrics")).GET());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("/metrics answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

    public HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    /** A request with the write token (if {@code method} is not GET). */
    public HttpResponse<String> send(String method, String path, String contentType, String body) {
        var request = request(method, path, contentType, body);
        if (!"GET".equals(method)) {
            request.header("Authorization", "Bearer " + TOKEN);
        }
        return send(request);
    }

    /** A request without credentials, unless {@code request} adds them. */
    public HttpRequest.Builder request(String method, String path, String contentType, String body) {
        var request = HttpRequest.newBuilder(uri(path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return request;
    }

    public HttpResponse<String> sendJson(String method, String path, String json) {
        return send(method, path, "application/json", json);
    }

    /**
     * Sends {@code request} and checks the answer against the OpenAPI document ({@link ApiContract}): every answer a
     * test receives through here is one the document allows, or the test fails. {@code /metrics} and the metrics
     * listener are the operators', not the public API's, and not in the document.
     */
    public HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            var response = HTTP.send(request.timeout(Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.ofString());
            var uri = response.request().uri();
            boolean operators = uri.getPort() == app.metricsPort() || uri.getRawPath().equals("/metrics");
            var violations = operators ? List.<String>of() : ApiContract.get().violations(response);
            if (!violations.isEmpty()) {
                throw new AssertionError("The answer breaks the OpenAPI document: " + String.join("; ", violations));
            }
            return response;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Creates a robot and answers its id. */
    public long create(String name) {
        var response = sendJson("POST", "/v1/robots", new JsonObject().put("name", name).encode());
        if (response.statusCode() != 201) {
            throw new IllegalStateException("create answered " + response.statusCode() + ": " + response.body());
        }
        return new JsonObject(response.body()).getLong("id");
    }

    /**
     * The robot's count as the database holds it, once every reference this instance recorded is flushed. Read through
     * the list, which counts nothing.
     */
    public long flushedCount(long id) throws InterruptedException {
        awaitFlushed();
        var page = new JsonObject(get("/v1/robots?limit=1&after=" + (id - 1)).body()).getJsonArray("robots");
        var robot = page.getJsonObject(0);
        if (robot.getLong("id") != id) {
            throw new IllegalStateException("no robot " + id);
        }
        return robot.getLong("count");
    }

    /**
     * Waits until this instance has no background task and no reference left to write. A client can read a response
     * a moment before the server's after-response handler has queued its task, so it first gives that moment.
     */
    public void awaitFlushed() throws InterruptedException {
        Thread.sleep(100);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (app.pendingReferences() > 0 || app.background().pending() > 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("references still pending: " + app.pendingReferences());
            }
            Thread.sleep(20);
        }
    }

    public void stop() {
        if (!stopped) {
            stopped = true;
            app.stop();
        }
    }

    @Override
    public void close() {
        stop();
    }
}
