package dev.robots.db;

import static dev.robots.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.LogCapture;
import dev.robots.RunningService;
import dev.robots.TestDatabase;
import io.netty.channel.uring.IoUring;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The form Cloud Run uses for Cloud SQL: {@code ?host=/cloudsql/INSTANCE}, a directory holding the server's Unix
 * socket. Here the local server's socket directory stands in for it; both the migrations (JDBC) and the requests
 * (reactive client) go through the socket.
 */
class UnixSocketTest {
    private static final Path SOCKET_DIR = Path.of(System.getenv().getOrDefault("TEST_PG_SOCKET_DIR",
            "/var/run/postgresql"));

    /** On both transports: io_uring where the kernel allows it, epoll where a sandbox refuses it (IoTransport). */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll"})
    void the_service_migrates_and_serves_over_a_unix_socket(String transport) {
        Assumptions.assumeTrue("true".equals(System.getenv("CI")) || Files.isDirectory(SOCKET_DIR),
                "no PostgreSQL socket directory at " + SOCKET_DIR);
        // A sandbox that refuses io_uring (seccomp, gVisor) stops a start that names it: the epoll case stands.
        Assumptions.assumeTrue(!transport.equals("io_uring") || IoUring.isAvailable(), "io_uring unavailable here");
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql")) {
            String name = database.url().substring(database.url().lastIndexOf('/') + 1);
            String url = "postgresql://postgres@/" + name + "?host=" + SOCKET_DIR;
            try (var service = RunningService.start(database, Map.of("DATABASE_URL", url, "IO_TRANSPORT", transport))) {
                long id = service.create("over a socket");
                var robot = new JsonObject(service.get("/v1/robots/" + id).body());
                assertThat(robot.getString("name")).isEqualTo("over a socket");
                assertThat(service.get("/readyz").statusCode()).isEqualTo(200);
            }
        }
    }

    /**
     * The socket file gone (Cloud SQL's proxy restarting, /cloudsql not mounted yet): connecting fails with ENOENT,
     * which Netty raises as a FileNotFoundException, and the database is unavailable like any other refused connect
     * (a 503 with Retry-After). It was an unexpected failure: a 500 and a SEVERE line with a stack trace.
     */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll"})
    void a_socket_that_is_gone_makes_the_database_unavailable(String transport) throws Exception {
        Assumptions.assumeTrue("true".equals(System.getenv("CI")) || Files.isDirectory(SOCKET_DIR),
                "no PostgreSQL socket directory at " + SOCKET_DIR);
        Assumptions.assumeTrue(!transport.equals("io_uring") || IoUring.isAvailable(), "io_uring unavailable here");
        Path dir = Files.createTempDirectory("cloudsql");
        Path socket = dir.resolve(".s.PGSQL.5432");
        Files.createSymbolicLink(socket, SOCKET_DIR.resolve(".s.PGSQL.5432"));
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql")) {
            String name = database.url().substring(database.url().lastIndexOf('/') + 1);
            String url = "postgresql://postgres@/" + name + "?host=" + dir;
            try (var service = RunningService.start(database, Map.of("DATABASE_URL", url, "IO_TRANSPORT", transport));
                    var logs = new LogCapture(Level.SEVERE)) {
                assertThat(service.get("/v1/robots/12345").statusCode()).isEqualTo(404);
                Files.delete(socket);
                try (var db = database.connect()) { // over TCP: the service's connections must be made anew
                    db.createStatement().execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            + "WHERE datname = current_database() AND pid <> pg_backend_pid()");
                }
                var refused = eventually(Duration.ofSeconds(10), () -> service.get("/v1/robots/12345"),
                        answer -> answer.statusCode() != 404);
                assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
                assertThat(refused.headers().firstValue("Retry-After")).isPresent();
                assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
                assertThat(logs.lines()).isEmpty();

                Files.createSymbolicLink(socket, SOCKET_DIR.resolve(".s.PGSQL.5432"));
                eventually(Duration.ofSeconds(10), () -> service.get("/v1/robots/12345").statusCode(),
                        status -> status == 404);
            }
        } finally {
            Files.deleteIfExists(socket);
            Files.delete(dir);
        }
    }

    @Test
    void a_socket_url_becomes_a_jdbc_url_through_junixsocket() {
        var target = DatabaseTarget.postgres("postgresql://robots:secret@/robots?host=/cloudsql/p:r:i&sslmode=disable");

        assertThat(target.pgOptions().getHost()).isEqualTo("/cloudsql/p:r:i");
        assertThat(target.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:5432/robots?sslmode=disable"
                + "&socketFactory=org.newsclub.net.unix.AFUNIXSocketFactory$FactoryArg"
                + "&socketFactoryArg=%2Fcloudsql%2Fp%3Ar%3Ai%2F.s.PGSQL.5432");
        assertThat(target.describe()).isEqualTo("PostgreSQL postgresql://robots@/robots?host=/cloudsql/p:r:i")
                .doesNotContain("secret");
    }
}
