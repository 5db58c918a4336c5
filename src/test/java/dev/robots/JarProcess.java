package dev.robots;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The packaged jar (target/robots-api.jar, so: integration tests only) run as a real process on a free port. */
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
        int port;
        try (var socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        var builder = new ProcessBuilder(java, "-jar", Path.of("target", "robots-api.jar").toString())
                .redirectErrorStream(true);
        builder.environment().put("PORT", Integer.toString(port));
        builder.environment().put("HOST", "127.0.0.1");
        builder.environment().putAll(env);
        // A file, not a pipe: the JDK closes a process's pipe under its reader when the process exits.
        Path log = Files.createTempFile("robots-process-", ".log");
        builder.redirectOutput(log.toFile());
        var jar = new JarProcess(builder.start(), log, port);
        jar.awaitLine("Listening on");
        return jar;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port).resolve(path);
    }

    public Process process() {
        return process;
    }

    /** Sends SIGTERM and waits for the exit; the exit status. */
    public int terminate(Duration within) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("still running %s after SIGTERM".formatted(within));
        }
        return process.exitValue();
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
