package dev.robots;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;

/**
 * A database for one test class: a fresh PostgreSQL database (created and dropped here), or a fresh directory for the
 * embedded H2. PostgreSQL comes from {@code TEST_DATABASE_URL} (default: the local server as postgres). Where it
 * cannot be reached the PostgreSQL tests are skipped, except under {@code CI=true}, where they fail.
 */
public abstract sealed class TestDatabase implements AutoCloseable {
    public static final String ADMIN_URL = System.getenv().getOrDefault(
            "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres");
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    /** The environment a service needs to use this database. */
    public abstract Map<String, String> env();

    /** A plain JDBC connection to this database, for setting up and checking what the service stored. */
    public abstract Connection connect() throws SQLException;

    public abstract String name();

    @Override
    public abstract void close();

    public static TestDatabase create(String kind) {
        return switch (kind) {
            case "h2" -> new Embedded();
            case "postgresql" -> Postgres.fresh();
            default -> throw new IllegalArgumentException(kind);
        };
    }

    public static final class Embedded extends TestDatabase {
        private final Path dir;

        Embedded() {
            try {
                dir = Files.createTempDirectory("robots-h2-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public Map<String, String> env() {
            return Map.of("DATA_DIR", dir.toString());
        }

        /**
         * A plain JDBC connection to the embedded database of a service running in this JVM: the same URL as
         * DatabaseTarget.embedded, so H2 hands out the database the service has open rather than a second one.
         */
        @Override
        public Connection connect() throws SQLException {
            return DriverManager.getConnection("jdbc:h2:file:" + dir.toAbsolutePath().normalize().resolve("robots")
                    + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;WRITE_DELAY=0", "sa", "");
        }

        @Override
        public String name() {
            return "H2";
        }

        @Override
        public void close() {
            // The directory is in the system's temp space; leaving it helps read a failure afterwards.
        }
    }

    public static final class Postgres extends TestDatabase {
        private final String database;

        private Postgres(String database) {
            this.database = database;
        }

        static Postgres fresh() {
            String database = "robots_test_%d_%d".formatted(ProcessHandle.current().pid(), SEQUENCE.incrementAndGet());
            admin("CREATE DATABASE " + database);
            return new Postgres(database);
        }

        @Override
        public Connection connect() throws SQLException {
            return DriverManager.getConnection(jdbc(url()));
        }

        public String url() {
            return ADMIN_URL.substring(0, ADMIN_URL.lastIndexOf('/') + 1) + database;
        }

        @Override
        public Map<String, String> env() {
            var env = new HashMap<String, String>();
            env.put("DATABASE_URL", url());
            return env;
        }

        @Override
        public String name() {
            return "PostgreSQL";
        }

        @Override
        public void close() {
            admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        }

        private static void admin(String sql) {
            try (Connection c = DriverManager.getConnection(jdbc(ADMIN_URL))) {
                c.createStatement().execute(sql);
            } catch (SQLException e) {
                if ("true".equals(System.getenv("CI"))) {
                    fail("PostgreSQL at %s is required under CI and could not be used: %s".formatted(ADMIN_URL, e), e);
                }
                Assumptions.abort("PostgreSQL at %s is not reachable: %s".formatted(ADMIN_URL, e.getMessage()));
            }
        }

        /** postgresql://user[:password]@host:port/db to the JDBC form. */
        public static String jdbc(String url) {
            var uri = java.net.URI.create(url);
            String[] user = uri.getUserInfo() == null ? new String[] {"postgres"} : uri.getUserInfo().split(":", 2);
            return "jdbc:postgresql://%s:%d%s?user=%s%s".formatted(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(),
                    uri.getPath(), user[0], user.length > 1 ? "&password=" + user[1] : "");
        }
    }
}
