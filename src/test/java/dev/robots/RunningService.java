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
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The real service on a free port of 127.0.0.1, and an HTTP client for it. A test that owns its database starts one
 * with {@link #start}; a test class that wants one service on a fresh database of its own declares it as a field:
 *
 * <pre>{@code
 * @RegisterExtension
 * final RunningService service = RunningService.onFresh("h2", Map.of("ACCESS_LOG", "true"));
 * }</pre>
 *
 * <p>A test method that wants a service of its own, with settings of its own, uses {@link #startOnFresh} in a
 * try-with-resources.
 *
 * <p>As a JUnit extension it creates its database and starts before the class's first test (and before the class's
 * {@code @BeforeAll} methods), and stops and drops its database after the last: on a static field, or on an instance
 * field of a {@code @TestInstance(PER_CLASS)} class. On an instance field of a per-method class it lives for one test,
 * like the instance that holds it.
 */
public final class RunningService implements AutoCloseable, BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
        AfterEachCallback {
    /** The token the service accepts for writes unless a test says otherwise; {@link #send} sends it. */
    public static final String TOKEN = "test-token-0123456789";

    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    /** The kind of database it makes for itself ("h2", "postgresql"); null when the test owns the database. */
    private final String freshKind;
    private final Map<String, String> overrides;
    private TestDatabase database;
    private Application app;
    private boolean perTest;
    private boolean stopped;

    private RunningService(String freshKind, Map<String, String> overrides) {
        this.freshKind = freshKind;
        this.overrides = overrides;
    }

    /** Starts the service on {@code database}, with settings in {@code overrides} on top. */
    public static RunningService start(TestDatabase database, Map<String, String> overrides) {
        var service = new RunningService(null, overrides);
        service.launch(database);
        return service;
    }

    public static RunningService start(TestDatabase database) {
        return start(database, Map.of());
    }

    /**
     * A service that JUnit starts on a fresh database of {@code kind} ({@code "h2"} or {@code "postgresql"}, as
     * {@link TestDatabase#create}), with settings in {@code overrides} on top, when it is declared as a
     * {@code @RegisterExtension} field.
     */
    public static RunningService onFresh(String kind, Map<String, String> overrides) {
        return new RunningService(kind, Map.copyOf(overrides));
    }

    public static RunningService onFresh(String kind) {
        return onFresh(kind, Map.of());
    }

    /** Starts the service now on a fresh database of {@code kind}; {@link #close} stops it and drops the database. */
    public static RunningService startOnFresh(String kind, Map<String, String> overrides) {
        var service = onFresh(kind, overrides);
        try {
            service.launchOnFresh();
        } catch (RuntimeException | Error e) {
            service.stopAndDrop();
            throw e;
        }
        return service;
    }

    public static RunningService startOnFresh(String kind) {
        return startOnFresh(kind, Map.of());
    }

    private void launch(TestDatabase on) {
        database = on;
        var env = new HashMap<String, String>();
        env.put("PORT", "0");
        env.put("METRICS_PORT", "0"); // a free port of its own
        env.put("HOST", "127.0.0.1");
        env.put("COUNT_FLUSH_MS", "100");
        env.put("ACCESS_LOG", "false"); // the load tests would log thousands of lines; JsonLogsIT reads it
        env.put("API_TOKENS", TOKEN);
        env.putAll(on.env());
        env.putAll(overrides);
        app = Application.start(Config.from(env));
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        launchOnFresh();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (database == null) { // an instance field of a per-method class: this test's own service
            perTest = true;
            launchOnFresh();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (perTest) {
            stopAndDrop();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stopAndDrop();
    }

    private void launchOnFresh() {
        if (freshKind == null) {
            throw new IllegalStateException("a service of RunningService.start is not an extension; use onFresh");
        }
        launch(TestDatabase.create(freshKind));
    }

    /** Stops the service, then drops the database it made for itself, even if the service failed to stop. */
    private void stopAndDrop() {
        try {
            stop();
        } finally {
            if (freshKind != null && database != null) {
                database.close();
            }
        }
    }

    /** The database it runs on. */
    public TestDatabase database() {
        if (database == null) {
            throw new IllegalStateException("not started yet: JUnit starts it before the class's @BeforeAll methods");
        }
        return database;
    }

    public Application app() {
        if (app == null) {
            throw new IllegalStateException("not started yet: JUnit starts it before the class's @BeforeAll methods");
        }
        return app;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + app().port()).resolve(path);
    }

    /** {@code path} on the metrics listener ({@code METRICS_PORT}). */
    public URI metricsUri(String path) {
        return URI.create("http://127.0.0.1:" + app().metricsPort()).resolve(path);
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
            boolean operators = uri.getPort() == app().metricsPort() || uri.getRawPath().equals("/metrics");
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
        while (app().pendingReferences() > 0 || app().background().pending() > 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("references still pending: " + app().pendingReferences());
            }
            Thread.sleep(20);
        }
    }

    public void stop() {
        if (!stopped && app != null) {
            stopped = true;
            app.stop();
        }
    }

    /** Stops the service, and drops its database if it made it ({@link #startOnFresh}). */
    @Override
    public void close() {
        stopAndDrop();
    }
}
