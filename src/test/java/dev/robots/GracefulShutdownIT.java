package dev.robots;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** SIGTERM to the packaged jar while load runs and sums are pending: nothing counted is lost, and it exits 0. */
class GracefulShutdownIT {
    private static final int SHUTDOWN_TIMEOUT_SECONDS = 8;

    @Test
    void sigterm_under_load_writes_every_pending_count_and_exits_zero_in_time() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql")) {
            int port;
            try (var socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
            String java = ProcessHandle.current().info().command().orElse("java");
            var builder = new ProcessBuilder(java, "-jar", Path.of("target", "robots-api.jar").toString())
                    .redirectErrorStream(true);
            builder.environment().put("PORT", Integer.toString(port));
            builder.environment().put("HOST", "127.0.0.1");
            builder.environment().put("DATABASE_URL", database.url());
            builder.environment().put("COUNT_FLUSH_MS", "5000");
            builder.environment().put("SHUTDOWN_TIMEOUT", Integer.toString(SHUTDOWN_TIMEOUT_SECONDS));
            // A file, not a pipe: the JDK closes a process's pipe under a reader when the process exits.
            Path log = Files.createTempFile("robots-shutdown-", ".log");
            builder.redirectOutput(log.toFile());
            Process process = builder.start();
            try {
                awaitLine(log, "Listening on");
                URI base = URI.create("http://127.0.0.1:" + port + "/");
                var ids = new ArrayList<Long>();
                var http = HttpClient.newHttpClient();
                for (int i = 0; i < 5; i++) {
                    var created = http.send(HttpRequest.newBuilder(base.resolve("/v1/robots"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"term-" + i + "\"}")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    ids.add(new JsonObject(created.body()).getLong("id"));
                }

                var load = new Load();
                long signalled;
                try (var background = Executors.newVirtualThreadPerTaskExecutor()) {
                    var running = background.submit(() -> load.run(List.of(base), ids, 10_000_000, 16));
                    Thread.sleep(1_500);
                    assertThat(load.ok()).isPositive();
                    signalled = System.nanoTime();
                    process.destroy(); // SIGTERM
                    assertThat(process.waitFor(SHUTDOWN_TIMEOUT_SECONDS + 2, TimeUnit.SECONDS)).isTrue();
                    load.stop();
                    running.get();
                }
                long shutdownMillis = (System.nanoTime() - signalled) / 1_000_000;
                List<String> output = Files.readAllLines(log);

                assertThat(process.exitValue()).as(String.join("\n", output)).isZero();
                assertThat(shutdownMillis).isLessThan(SHUTDOWN_TIMEOUT_SECONDS * 1000L);
                assertThat(output).anyMatch(line -> line.contains("Received SIGTERM"))
                        // the long flush interval left sums pending when the signal came
                        .anyMatch(line -> line.matches(".*Shutting down: [1-9][0-9]* references pending.*"))
                        .anyMatch(line -> line.contains("every recorded reference was written"));
                try (Connection c = database.connect()) {
                    for (long id : ids) {
                        var rows = c.createStatement().executeQuery("SELECT count FROM robots WHERE id = " + id);
                        rows.next();
                        long count = rows.getLong(1);
                        assertThat(count).as("robot %d: 200s %d, sent %d", id, load.ok(id), load.sent(id))
                                .isBetween(load.ok(id), load.sent(id));
                    }
                }
            } finally {
                process.destroyForcibly();
            }
        }
    }

    private static void awaitLine(Path log, String text) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (Files.readAllLines(log).stream().noneMatch(line -> line.contains(text))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no '%s' in 30 s:%n%s".formatted(text, Files.readString(log)));
            }
            Thread.sleep(50);
        }
    }
}
