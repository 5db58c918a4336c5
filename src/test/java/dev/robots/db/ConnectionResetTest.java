package dev.robots.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.LogCapture;
import dev.robots.RunningService;
import dev.robots.TcpProxy;
import dev.robots.TestDatabase;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Errors;
import java.io.IOException;
import java.net.SocketException;
import java.net.URI;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * A connection to PostgreSQL that its peer resets (pg_terminate_backend while the client is still sending, a
 * restart, a middlebox that lost its state) fails in the socket, not in PostgreSQL: the driver reports the socket's
 * own failure, "Connection reset by peer". That is the database being unavailable, like a refused or closed
 * connection: 503 with Retry-After and no SEVERE log, never a 500.
 */
class ConnectionResetTest {

    @Test
    void a_connection_reset_under_a_query_is_a_503_with_retry_after_and_no_severe_log() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var proxy = new TcpProxy(URI.create(TestDatabase.ADMIN_URL).getPort())) {
            String viaProxy = database.url().replaceFirst(":\\d+/", ":" + proxy.port() + "/");
            try (var service = RunningService.start(database, Map.of("DATABASE_URL", viaProxy, "CACHE_MB", "0"));
                    var logs = new LogCapture(Level.SEVERE)) {
                long id = service.create("R2-D2");
                // Read once while the database answers: with a cache, the reads below would be served from it.
                assertThat(service.get("/v1/robots/" + id).statusCode()).isEqualTo(200);
                service.awaitFlushed(); // its reference is written while the database still answers
                proxy.reset();
                // Each read goes to the database (CACHE_MB=0, no cache): on a pooled connection, reset as its query
                // arrives, or on a new one, reset as its login arrives.
                for (int i = 0; i < 10; i++) {
                    var response = service.get("/v1/robots/" + id);
                    assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
                    assertThat(response.headers().firstValue("Retry-After")).isPresent();
                }
                assertThat(logs.lines()).isEmpty();
            }
        }
    }

    @Test
    void a_socket_that_fails_under_the_driver_counts_as_unavailable() {
        // The JDK's sockets (the NIO transport, where epoll is not available).
        assertThat(Database.isUnavailable(new SocketException("Connection reset"))).isTrue();
        assertThat(Database.isUnavailable(new SocketException("Broken pipe"))).isTrue();
        // A backend terminated as a query was written: the SQL client shuts the connection's output and fails the
        // write with this (on io_uring; a 500 in CI, ConnectionLimitTest's read-only database).
        assertThat(Database.isUnavailable(new io.netty.channel.socket.ChannelOutputShutdownException(
                "Channel output shutdown"))).isTrue();
        // The native transport's, as the reactive client reports them: reset, broken pipe, and TCP_USER_TIMEOUT's
        // abort of a connection nothing acknowledges.
        Epoll.ensureAvailability();
        for (int errno : new int[] {Errors.ERRNO_ECONNRESET_NEGATIVE, Errors.ERRNO_EPIPE_NEGATIVE}) {
            var failure = Errors.newConnectionResetException("syscall:read", errno);
            assertThat(Database.isUnavailable(failure)).as(failure.getMessage()).isTrue();
            assertThat(Database.isUnavailable(new IllegalStateException("wrapped", failure))).isTrue();
        }
        assertThat(Database.isUnavailable(new Errors.NativeIoException("syscall:read", -110))).isTrue();
        // An input-output failure that is no socket's is not the database being away.
        assertThat(Database.isUnavailable(new IOException("openapi.yaml: no such file"))).isFalse();
    }
}
