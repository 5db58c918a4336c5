package dev.robots.robots;

import static dev.robots.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.LogCapture;
import dev.robots.RunningService;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The connection that hears of robot changes, ended by the database (pg_terminate_backend, a failover, an idle
 * timeout of a proxy), is reported through the log alone. The SQL client prints an error to stderr itself when its
 * connection has no exception handler: a bare line outside the log's format, which under LOG_FORMAT=json is not a
 * Cloud Logging entry.
 */
class ChangesListenerLossTest {
    @RegisterExtension
    static final RunningService service = RunningService.onFresh("postgresql");

    @Test
    void a_terminated_listener_prints_nothing_outside_the_log_and_comes_back() throws Exception {
        long id = service.create("R2-D2");
        assertThat(service.get("/v1/robots/" + id).statusCode()).isEqualTo(200);

        var stderr = new ByteArrayOutputStream();
        PrintStream original = System.err;
        System.setErr(new PrintStream(new Tee(original, stderr), true, StandardCharsets.UTF_8));
        try (var logs = new LogCapture(Level.WARNING)) {
            try (var db = service.database().connect()) {
                db.createStatement().execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        + "WHERE datname = current_database() AND pid <> pg_backend_pid()");
            }
            eventually(Duration.ofSeconds(10), logs::lines,
                    lines -> lines.stream().anyMatch(l -> l.startsWith("Lost the connection that hears")));
            // Back: the listener reconnects within a second, and reads are served again.
            eventually(Duration.ofSeconds(10), () -> service.get("/v1/robots/" + id).statusCode(),
                    status -> status == 200);
        } finally {
            System.setErr(original);
        }
        assertThat(stderr.toString(StandardCharsets.UTF_8)).doesNotContain("PgException");
    }

    /** Writes to both streams: what the test captures still shows in the test's output. */
    private static final class Tee extends OutputStream {
        private final OutputStream first;
        private final OutputStream second;

        Tee(OutputStream first, OutputStream second) {
            this.first = first;
            this.second = second;
        }

        @Override
        public synchronized void write(int b) throws java.io.IOException {
            first.write(b);
            second.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws java.io.IOException {
            first.write(b, off, len);
            second.write(b, off, len);
        }
    }
}
