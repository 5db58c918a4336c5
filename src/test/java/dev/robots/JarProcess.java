package dev.robots;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The packaged jar (target/robots-api.jar, so: integration tests only) run as a real process on a free port, with the
 * container image's JVM flags, so that what ships is what is tested (JsonLogsIT, say, holds them to a clean stdout).
 */
public final class JarProcess implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final int port;

    private JarProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /** Starts the jar with {@code env} and returns once it listens. */
    public static JarProcess start(Map<String, String> env) throws Exception {
        var jar = launch(env);
        try {
            jar.awaitLine("Listening on");
        } catch (Exception | AssertionError e) {
            jar.close(); // a start that did not finish in time must not leave the process behind
            throw e;
        }
        return jar;
    }

    /** Starts the jar with {@code env} and returns at once, for a start that is meant to fail. */
    public static JarProcess launch(Map<String, String> env) throws Exception {
        int port;
        try (var socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        var command = new ArrayList<String>();
        // The signals the service handles, at their defaults whatever this JVM was started under: a signal ignored
        // here (nohup ignores SIGHUP, a background job of a shell without job control SIGINT) stays ignored in a child,
        // and the JVM then leaves it so (GracefulShutdownIT's SIGHUP case failed under nohup). env(1) execs the JVM,
        // so the process's pid is the JVM's.
        command.addAll(List.of("env", "--default-signal=HUP,INT,TERM"));
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(imageJvmFlags());
        command.addAll(List.of("-jar", Path.of("target", "robots-api.jar").toString()));
        var builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("PORT", Integer.toString(port));
        builder.environment().put("HOST", "127.0.0.1");
        builder.environment().put("METRICS_PORT", "0"); // not 9090: other jars may run beside it
        builder.environment().putAll(env);
        // A file, not a pipe: the JDK closes a process's pipe under its reader when the process exits.
        Path log = Files.createTempFile("robots-process-", ".log");
        builder.redirectOutput(log.toFile());
        return new JarProcess(builder.start(), log, port);
    }

    /** The Dockerfile's ENTRYPOINT flags, without its AOT cache (recorded at image build) and class path. */
    static List<String> imageJvmFlags() throws IOException {
        var entrypoint = Pattern.compile("^ENTRYPOINT (\\[.*?])", Pattern.MULTILINE | Pattern.DOTALL)
                .matcher(Files.readString(Path.of("Dockerfile")));
        if (!entrypoint.find()) {
            throw new IllegalStateException("No ENTRYPOINT [...] in the Dockerfile");
        }
        var words = new JsonArray(entrypoint.group(1).replace("\\\n", ""));
        var flags = new ArrayList<String>();
        for (int i = 1; i < words.size() && !words.getString(i).equals("-cp"); i++) {
            if (!words.getString(i).startsWith("-XX:AOTCache=")) {
                flags.add(words.getString(i));
            }
        }
        return flags;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port).resolve(path);
    }

    public Process process() {
        return process;
    }

    /** Sends SIGKILL and waits for the process to be gone, as an out-of-memory kill or a lost node would. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError("still running 10 s after SIGKILL");
        }
    }

    /** Sends SIGTERM and waits for the exit; the exit status. */
    public int terminate(Duration within) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("still running %s after SIGTERM".formatted(within));
        }
        return process.exitValue();
    }

    /** Sends the signal {@code name} ({@code HUP}, {@code INT}) with kill(1) and waits for the exit; the exit status. */
    public int signal(String name, Duration within) throws Exception {
        int sent = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor();
        if (sent != 0) {
            throw new AssertionError("kill -%s failed: %d".formatted(name, sent));
        }
        if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("still running %s after SIG%s".formatted(within, name));
        }
        return process.exitValue();
    }

    /**
     * Creates a robot named {@code name} (the process's API_TOKENS must hold {@link RunningService#TOKEN}) and reads
     * it {@code reads} times, each a 200, so that as many references wait to be flushed; its id.
     */
    public long createAndRead(String name, int reads) throws Exception {
        var http = HttpClient.newHttpClient();
        var created = http.send(HttpRequest.newBuilder(uri("/v1/robots"))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + RunningService.TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("name", name).encode())).build(),
                HttpResponse.BodyHandlers.ofString());
        if (created.statusCode() != 201) {
            throw new AssertionError("create: " + created.statusCode() + " " + created.body());
        }
        long id = new JsonObject(created.body()).getLong("id");
        for (int i = 0; i < reads; i++) {
            int status = http.send(HttpRequest.newBuilder(uri("/v1/robots/" + id)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status != 200) {
                throw new AssertionError("read %d of robot %d: %d".formatted(i + 1, id, status));
            }
        }
        return id;
    }

    /** Everything the process wrote so far, standard output and error together. */
    public List<String> output() throws IOException {
        return Files.readAllLines(log);
    }

    public void awaitLine(String text) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (output().stream().noneMatch(line -> line.contains(text))) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new AssertionError("no '%s':%n%s".formatted(text, String.join("\n", output())));
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
