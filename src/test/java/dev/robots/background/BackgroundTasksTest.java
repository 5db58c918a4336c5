package dev.robots.background;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The promises of {@link BackgroundTasks}, over a real HTTP server and client. */
class BackgroundTasksTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<String> events = new CopyOnWriteArrayList<>();
    private Vertx vertx;
    private BackgroundTasks tasks;
    private HttpServer server;
    private Promise<Void> release;

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        tasks = new BackgroundTasks(vertx);
        release = Promise.promise();
        Router router = Router.router(vertx);
        router.get("/").handler(ctx -> {
            tasks.after(ctx,
                    BackgroundTask.of("first", () -> {
                        events.add("first ran, response ended: " + ctx.response().ended());
                        // Holds the task until the test has read the whole response.
                        return release.future();
                    }),
                    BackgroundTask.of("failing", () -> {
                        throw new IllegalStateException("a task that fails");
                    }),
                    BackgroundTask.of("failing later", () -> Future.failedFuture("no luck")),
                    tasks.blocking("blocking", () -> events.add("blocking ran on event loop: "
                            + Context.isOnEventLoopThread())),
                    BackgroundTask.of("last", () -> {
                        events.add("last ran");
                        return Future.succeededFuture();
                    }));
            events.add("handler answered");
            ctx.response().end("done");
        });
        server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await();
    }

    @AfterEach
    void stop() {
        vertx.close().await();
    }

    private HttpResponse<String> get() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + "/"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void the_response_is_complete_before_its_tasks_finish_and_they_run_in_order_despite_failures() throws Exception {
        var response = get();

        // The first task is still held: had the response waited for it, get() would have timed out.
        assertThat(response.body()).isEqualTo("done");
        assertThat(tasks.pending()).isEqualTo(5);
        assertThat(events).containsExactly("handler answered", "first ran, response ended: true");

        release.complete();
        assertThat(tasks.drain(Duration.ofSeconds(5)).await(5, java.util.concurrent.TimeUnit.SECONDS)).isNull();
        assertThat(events).containsExactly("handler answered", "first ran, response ended: true",
                "blocking ran on event loop: false", "last ran");
        assertThat(tasks.pending()).isZero();
    }

    @Test
    void drain_gives_up_at_its_deadline_and_says_how_many_were_left() throws Exception {
        get();

        assertThatThrownBy(() -> tasks.drain(Duration.ofMillis(200)).await())
                .hasMessageContaining("5 background tasks were still pending");
        release.complete();
    }
}
