package dev.robots;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM while keep-alive clients never stop sending (and reconnect at once when closed): the drain leaves the last
 * flush its time, so the process exits 0 with every count written; an answer given while draining says
 * {@code Connection: close}, and the connection does close after it.
 */
class ShutdownDrainIT {
    private static final int SHUTDOWN_TIMEOUT_SECONDS = 8;
    private static final String TOKEN = RunningService.TOKEN;

    @Test
    void clients_that_never_stop_sending_do_not_keep_the_counts_from_being_written() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var jar = JarProcess.start(Map.of("DATABASE_URL", database.url(), "COUNT_FLUSH_MS", "5000",
                        "SHUTDOWN_TIMEOUT", Integer.toString(SHUTDOWN_TIMEOUT_SECONDS), "ACCESS_LOG", "false",
                        "REQUEST_TIMEOUT_MS", "10000", "API_TOKENS", TOKEN))) {
            URI base = jar.uri("/");
            var ids = new ArrayList<Long>();
            for (int i = 0; i < 5; i++) {
                var created = exchange(base, post("drain-" + i, ""));
                assertThat(created.status()).isEqualTo(201);
                ids.add(Long.parseLong(created.header("location").replaceAll(".*/", "")));
            }

            var load = new Load();
            var stop = new AtomicBoolean();
            var rawSent = new HashMap<Long, AtomicLong>();
            var rawOk = new HashMap<Long, AtomicLong>();
            ids.forEach(id -> {
                rawSent.put(id, new AtomicLong());
                rawOk.put(id, new AtomicLong());
            });
            var closedAfterCloseHeader = new AtomicLong();
            var reusedAfterCloseHeader = new AtomicLong();
            int exitStatus;
            long signalled;
            // A write whose body is still coming when the signal arrives: its answer is given while draining.
            String body = "{\"name\": \"acknowledged-while-draining\"}";
            // The stoppers are closed before the executor, so that a failed assertion does not leave it waiting for
            // clients that never stop.
            // And one whose body never finishes: the HTTP drain cannot end before its deadline, and must still leave
            // the last flush its time.
            try (var stuck = new Socket(base.getHost(), base.getPort());
                    var slow = new Socket(base.getHost(), base.getPort());
                    var background = Executors.newVirtualThreadPerTaskExecutor();
                    var loadStopper = load.stopper();
                    AutoCloseable clientsStopper = () -> stop.set(true)) {
                stuck.getOutputStream().write(post("never-finished", body).substring(0,
                        post("never-finished", body).length() - body.length() + 5).getBytes(StandardCharsets.US_ASCII));
                OutputStream slowOut = slow.getOutputStream();
                slowOut.write(post("acknowledged-while-draining", body).substring(0,
                        post("acknowledged-while-draining", body).length() - body.length() + 5)
                        .getBytes(StandardCharsets.US_ASCII));
                slowOut.flush();

                var running = background.submit(() -> load.run(List.of(base), ids, 100_000_000, 32));
                for (int c = 0; c < 4; c++) {
                    background.submit(() -> {
                        keepSending(base, ids, stop, rawSent, rawOk, closedAfterCloseHeader, reusedAfterCloseHeader);
                        return null;
                    });
                }
                // Under way on every client, however busy the machine is, before the signal.
                long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while ((load.ok() < 200 || rawOk.values().stream().mapToLong(AtomicLong::get).sum() < 20)
                        && System.nanoTime() < waitUntil) {
                    Thread.sleep(50);
                }
                assertThat(load.ok()).as("%s, raw %s", load, rawOk).isPositive();

                signalled = System.nanoTime();
                jar.process().destroy();
                jar.awaitLine("Shutting down");
                slowOut.write(body.substring(5).getBytes(StandardCharsets.UTF_8));
                slowOut.flush();
                var drained = read(new BufferedInputStream(slow.getInputStream()));
                assertThat(drained.status()).isEqualTo(201);
                assertThat(drained.header("connection")).isEqualToIgnoringCase("close");
                assertThat(slow.getInputStream().read()).as("the connection closes after it").isEqualTo(-1);

                assertThat(jar.process().waitFor(SHUTDOWN_TIMEOUT_SECONDS + 2, TimeUnit.SECONDS)).isTrue();
                exitStatus = jar.process().exitValue();
                stop.set(true);
                load.stop();
                running.get();
            }
            long shutdownMillis = (System.nanoTime() - signalled) / 1_000_000;

            List<String> output = jar.output();
            assertThat(exitStatus).as(String.join("\n", output)).isZero();
            assertThat(shutdownMillis).isLessThan(SHUTDOWN_TIMEOUT_SECONDS * 1000L);
            assertThat(output).anyMatch(line -> line.contains("every recorded reference was written"));
            assertThat(reusedAfterCloseHeader.get()).as("requests answered after a Connection: close").isZero();
            try (Connection c = database.connect()) {
                for (long id : ids) {
                    var rows = c.createStatement().executeQuery("SELECT count FROM robots WHERE id = " + id);
                    rows.next();
                    long ok = load.ok(id) + rawOk.get(id).get();
                    long sent = load.sent(id) + rawSent.get(id).get();
                    assertThat(rows.getLong(1)).as("robot %d: 200s %d, sent %d", id, ok, sent).isBetween(ok, sent);
                }
                var kept = c.createStatement().executeQuery(
                        "SELECT count(*) FROM robots WHERE name = 'acknowledged-while-draining'");
                kept.next();
                assertThat(kept.getLong(1)).isEqualTo(1);
            }
        }
    }

    /**
     * GETs over one keep-alive connection after another until told to stop, reconnecting at once when the server
     * closes; tallies what was sent and answered 200, and whether a connection ever answered again after saying
     * {@code Connection: close}.
     */
    private static void keepSending(URI base, List<Long> ids, AtomicBoolean stop, Map<Long, AtomicLong> sent,
            Map<Long, AtomicLong> ok, AtomicLong closedAfterCloseHeader, AtomicLong reusedAfterCloseHeader) {
        int n = 0;
        while (!stop.get()) {
            try (var socket = new Socket(base.getHost(), base.getPort())) {
                socket.setSoTimeout(10_000);
                var in = new BufferedInputStream(socket.getInputStream());
                OutputStream out = socket.getOutputStream();
                boolean closeSaid = false;
                while (!stop.get()) {
                    long id = ids.get(n++ % ids.size());
                    sent.get(id).incrementAndGet();
                    out.write("GET /v1/robots/%d HTTP/1.1\r\nHost: x\r\n\r\n".formatted(id)
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    Response response = read(in);
                    if (response == null) {
                        break; // closed before an answer
                    }
                    if (closeSaid) {
                        reusedAfterCloseHeader.incrementAndGet();
                    }
                    if (response.status() == 200) {
                        ok.get(id).incrementAndGet();
                    }
                    if ("close".equalsIgnoreCase(response.header("connection"))) {
                        closeSaid = true;
                        if (in.read() == -1) {
                            closedAfterCloseHeader.incrementAndGet();
                        }
                        break;
                    }
                }
            } catch (IOException refusedOrReset) {
                // The server stopped listening or cut the connection: try again, as a real client would.
                Thread.onSpinWait();
            }
        }
    }

    private static String post(String name, String body) {
        String json = body.isEmpty() ? "{\"name\": \"" + name + "\"}" : body;
        return ("POST /v1/robots HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                + "Content-Length: %d\r\n\r\n%s").formatted(TOKEN, json.getBytes(StandardCharsets.UTF_8).length, json);
    }

    private static Response exchange(URI base, String request) throws IOException {
        try (var socket = new Socket(base.getHost(), base.getPort())) {
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            return read(new BufferedInputStream(socket.getInputStream()));
        }
    }

    record Response(int status, Map<String, String> headers) {
        String header(String name) {
            return headers.get(name);
        }
    }

    /** One HTTP/1.1 response with a Content-Length body, or null when the connection closed before it. */
    private static Response read(InputStream in) throws IOException {
        String statusLine = line(in);
        if (statusLine == null) {
            return null;
        }
        var headers = new HashMap<String, String>();
        for (String line = line(in); line != null && !line.isEmpty(); line = line(in)) {
            int colon = line.indexOf(':');
            headers.put(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
        }
        in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0")));
        return new Response(Integer.parseInt(statusLine.split(" ")[1]), headers);
    }

    private static String line(InputStream in) throws IOException {
        var bytes = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b == -1) {
                return bytes.size() == 0 ? null : bytes.toString(StandardCharsets.US_ASCII);
            }
            if (b != '\r') {
                bytes.write(b);
            }
        }
        return bytes.toString(StandardCharsets.US_ASCII);
    }
}
