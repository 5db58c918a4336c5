package dev.robots.db;

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
 * A connection the database ends (pg_terminate_backend, a failover, an idle timeout of a proxy) while the service
 * holds it, the one that hears of robot changes or one leased for a transaction, is reported through the log alone.
 * The SQL client prints an error to stderr itself when a leased connection has no exception handler: a bare line
 * outside the log's format, which under LOG_FORMAT=json is not a Cloud Logging entry.
 */
class TerminatedConnectionsTest {
    @RegisterExtension
    static final RunningService service = RunningService.onFresh("postgresql");

    @Test
    void a_terminated_listener_prints_nothing_outside_the_log_and_comes_back() throws Exception {
        long id = service.create("R2-D2");
        assertThat(service.get("/v1/robots/" + id).statusCode()).isEqualTo(200);

        var stderr = new ByteArrayOutputStream();
        PrintStream original = capture(stderr);
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

    @Test
    void a_write_whose_connection_is_terminated_is_a_503_and_prints_nothing_outside_the_log() throws Exception {
        long id = service.create("C-3PO");
        var stderr = new ByteArrayOutputStream();
        PrintStream original = capture(stderr);
        try (var db = service.database().connect(); var lock = service.database().connect()) {
            // The rename waits for this lock inside its transaction, on a leased connection, which is then ended.
            lock.setAutoCommit(false);
            lock.createStatement().execute("SELECT * FROM robots WHERE id = " + id + " FOR UPDATE");
            var rename = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> service.sendJson("PATCH", "/v1/robots/" + id, "{\"name\": \"R2-D2\"}"));
            eventually(Duration.ofSeconds(5), () -> waiting(db), count -> count > 0);
            db.createStatement().execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    + "WHERE datname = current_database() AND wait_event_type = 'Lock'");
            assertThat(rename.get().statusCode()).isEqualTo(503);
            lock.rollback();
        } finally {
            System.setErr(original);
        }
        assertThat(stderr.toString(StandardCharsets.UTF_8)).doesNotContain("PgException");
    }

    /** How many sessions wait for a lock. */
    private static int waiting(java.sql.Connection db) {
        try (var rows = db.createStatement().executeQuery(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")) {
            rows.next();
            return rows.getInt(1);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends stderr to {@code into} as well as where it went; answers where it went, to put it back. */
    private static PrintStream capture(ByteArrayOutputStream into) {
        PrintStream original = System.err;
        System.setErr(new PrintStream(new Tee(original, into), true, StandardCharsets.UTF_8));
        return original;
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
