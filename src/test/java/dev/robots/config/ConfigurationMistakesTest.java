package dev.robots.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.robots.Application;
import dev.robots.LogCapture;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A configuration mistake stops the start with one line that names the variable and its value, without a cause or
 * stack trace to print, and before any migration runs (the embedded database's file is never made).
 */
class ConfigurationMistakesTest {
    @TempDir
    Path dataDir;

    private Throwable start(Map<String, String> settings) {
        var env = new HashMap<String, String>();
        env.put("PORT", "0");
        env.put("METRICS_PORT", "0");
        env.put("HOST", "127.0.0.1");
        env.put("DATA_DIR", dataDir.toString());
        env.put("API_TOKENS", "a-token-of-16-characters");
        env.put("DB_TIMEOUT_MS", "500");
        env.putAll(settings);
        Throwable error = catchThrowable(() -> Application.start(Config.from(env)).stop());
        assertThat(error).isInstanceOf(ConfigurationError.class).hasNoCause();
        assertThat(error.getStackTrace()).isEmpty();
        assertThat(error.getMessage()).doesNotContain("\n");
        assertThat(dataDir.resolve("robots.mv.db")).doesNotExist();
        return error;
    }

    /** A project id goes into every log entry's trace name: one with a space or a slash made names of nothing. */
    @Test
    void a_google_cloud_project_that_is_no_project_id_stops_the_start() {
        for (String project : new String[] {"my proj/../x", "My-Project", "short", "a-project-", "1project",
                "p".repeat(31)}) {
            assertThat(start(Map.of("GOOGLE_CLOUD_PROJECT", project)).getMessage()).as(project)
                    .startsWith("GOOGLE_CLOUD_PROJECT must be a project id");
        }
        for (String project : new String[] {"my-project-123456", "example.com:my-project"}) {
            assertThat(Config.from(Map.of("GOOGLE_CLOUD_PROJECT", project)).cloudProject()).hasValue(project);
        }
    }

    @Test
    void a_database_url_set_but_empty_is_not_the_embedded_database() {
        // A secret that reached the instance without a value: served on an empty H2 file per instance, writes lost.
        for (String empty : new String[] {"", "  "}) {
            assertThat(start(Map.of("DATABASE_URL", empty))).hasMessage("DATABASE_URL is set but empty; give a "
                    + "PostgreSQL URL, or unset it to use the embedded database");
        }
    }

    /** A number is ASCII digits: Integer.parseInt took PORT=+19380 and Arabic-Indic digits, and started on 19380. */
    @Test
    void a_number_spelled_with_a_sign_or_other_digits_is_refused() {
        for (String port : new String[] {"+19380", "\u0661\u0669\u0663\u0668\u0660", "0x4BC4"}) {
            assertThat(start(Map.of("PORT", port))).as(port)
                    .hasMessage("PORT must be a whole number from 0 to 65535, not '%s'".formatted(port));
        }
    }

    @Test
    void a_cache_larger_than_half_the_heap_names_cache_mb_and_the_heap() {
        long heap = Runtime.getRuntime().maxMemory() / (1024 * 1024);
        String tooLarge = Long.toString(Math.min(65_536, heap / 2 + 1));
        assertThat(start(Map.of("CACHE_MB", tooLarge)))
                .hasMessageStartingWith("CACHE_MB %s is more than half of this JVM's heap (%d MiB)".formatted(tooLarge, heap));
    }

    @Test
    void a_port_in_use_names_port_and_host() throws Exception {
        try (var taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertThat(start(Map.of("PORT", Integer.toString(port))))
                    .hasMessageStartingWith("PORT %d on HOST '127.0.0.1' cannot be bound".formatted(port));
        }
    }

    @Test
    void a_metrics_port_in_use_names_it() throws Exception {
        try (var taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertThat(start(Map.of("METRICS_PORT", Integer.toString(port))))
                    .hasMessageStartingWith("METRICS_PORT %d on HOST '127.0.0.1' cannot be bound".formatted(port));
        }
    }

    /**
     * API_TOKENS set to separators only (a deploy's {@code API_TOKENS=$TOKEN_A,$TOKEN_B} with both secrets missing) is
     * a mistake, not "unset": it used to start as if no token were configured, with a token file of its own on the
     * embedded database, and on PostgreSQL refusing every write under a warning that API_TOKENS was not set.
     */
    @Test
    void api_tokens_set_to_separators_only_names_it() {
        for (String value : new String[] {",", " , ,, "}) {
            assertThat(start(Map.of("API_TOKENS", value))).as(value)
                    .hasMessage("API_TOKENS is set but holds no token (comma-separated tokens); unset it to have none");
            assertThat(dataDir.resolve("api-token")).doesNotExist();
        }
    }

    @Test
    void a_host_that_does_not_resolve_names_it() {
        assertThat(start(Map.of("HOST", "no-such-host.invalid")))
                .hasMessage("HOST 'no-such-host.invalid' cannot be resolved to an address");
    }

    @Test
    void a_data_dir_that_cannot_be_written_names_it() throws Exception {
        Path readOnly = dataDir.resolve("read-only");
        Files.createDirectory(readOnly, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("r-x------")));
        // root writes anywhere: then the mistake is a DATA_DIR under a regular file, which no one can create.
        Path unwritable = "root".equals(System.getProperty("user.name"))
                ? Files.writeString(dataDir.resolve("a-file"), "").resolve("data") : readOnly.resolve("data");
        assertThat(start(Map.of("DATA_DIR", unwritable.toString())))
                .hasMessageStartingWith("DATA_DIR %s cannot be created or written".formatted(unwritable));
    }

    @Test
    void a_database_host_that_does_not_resolve_names_it() {
        assertThat(start(Map.of("DATABASE_URL", "postgres://robots:secret@db.invalid:5432/robots")))
                .hasMessage("DATABASE_URL names the host 'db.invalid', which cannot be resolved");
    }

    /** The one line alone: the read cache's listener, which connects meanwhile, printed its failure first. */
    @Test
    void a_postgresql_database_that_does_not_exist_names_the_variable() {
        String admin = dev.robots.TestDatabase.ADMIN_URL;
        String missing = admin.substring(0, admin.lastIndexOf('/') + 1) + "robots_no_such_database";
        try (var logs = new LogCapture(Level.WARNING)) {
            assertThat(start(Map.of("DATABASE_URL", missing)))
                    .hasMessageStartingWith("DATABASE_URL: PostgreSQL refuses it: ")
                    .hasMessageContaining("robots_no_such_database");
            assertThat(logs.lines()).isEmpty();
        }
    }

    /**
     * The reactive client took a URL without a database for the database "db": a start failed with "database "db"
     * does not exist", or migrated a database that happened to be called so; an empty one was called unparseable.
     */
    @Test
    void a_url_that_names_no_database_says_so() {
        for (String url : new String[] {"postgres://robots:secret-pw@127.0.0.1:5432", "postgres://robots@127.0.0.1",
                "postgres://robots@127.0.0.1:5432/", "postgres://robots@127.0.0.1:5432?sslmode=disable",
                "postgres://robots@127.0.0.1:5432/robots/more", "postgresql://robots@?host=/cloudsql/p:r:i"}) {
            assertThat(start(Map.of("DATABASE_URL", url))).as(url).hasMessage("DATABASE_URL names no database: give "
                    + "postgres://USER:PASSWORD@HOST:PORT/DATABASE, the database one path segment");
        }
    }

    /**
     * A Cloud SQL IAM user given as ?user= holds an @, which was taken for the end of a user and password before the
     * host: the URL was read as one without a database. It reaches the database as that user.
     */
    @Test
    void an_at_sign_in_the_query_is_the_querys() {
        String url = "postgres:///robots_no_such_database?host=127.0.0.1&user=sa@proj.iam";
        try (var logs = new LogCapture(Level.WARNING)) {
            assertThat(start(Map.of("DATABASE_URL", url)))
                    .hasMessageStartingWith("DATABASE_URL: PostgreSQL refuses it: ").hasMessageContaining("sa@proj.iam");
        }
    }

    @Test
    void a_url_parameter_or_port_that_cannot_be_used_is_named_for_what_is_wrong() {
        String url = "postgres://robots:secret-pw@127.0.0.1:5432/robots";
        assertThat(start(Map.of("DATABASE_URL", url + "?sslmode=bogus")))
                .hasMessage("DATABASE_URL: sslmode must be one of disable, allow, prefer, require, verify-ca, "
                        + "verify-full");
        assertThat(start(Map.of("DATABASE_URL", url.replace("5432", "99999"))))
                .hasMessage("DATABASE_URL: the port (after HOST:) must be a number from 1 to 65535");
        assertThat(start(Map.of("DATABASE_URL", url + "?connect_timeout=abc&foo=bar")))
                .hasMessageStartingWith("DATABASE_URL: connect_timeout is not read from the URL; set DB_TIMEOUT_MS");
        assertThat(start(Map.of("DATABASE_URL", url + "?sslmode=disable&foo=bar")))
                .hasMessage("DATABASE_URL has the parameter 'foo', which this service does not take; it takes "
                        + "application_name, host, options, password, sslmode, user");
        assertThat(start(Map.of("DATABASE_URL", url + "?sslmode=disable&sslmode=require")))
                .hasMessage("DATABASE_URL gives the parameter 'sslmode' twice");
        assertThat(start(Map.of("DATABASE_URL", url + "?sslmode")))
                .hasMessageStartingWith("DATABASE_URL has a query parameter that is not NAME=VALUE");
        assertThat(start(Map.of("DATABASE_URL", url + "#frag"))).hasMessage("DATABASE_URL has a # part, which a "
                + "database URL does not take (a # in the password is written %23)");
        // ?host= with nothing after it reached localhost over TCP, where a Unix socket's directory was meant.
        for (String empty : new String[] {"host", "user", "sslmode", "application_name", "options"}) {
            assertThat(start(Map.of("DATABASE_URL", url + "?" + empty + "=")))
                    .hasMessage("DATABASE_URL gives the parameter '%s' with no value".formatted(empty));
        }
    }

    /**
     * A statement_timeout in ?options= too short for the schema's migration: Flyway's "Unable to check whether schema
     * public is empty" and a page of stack trace; now one line that names the variable (a black-box finding).
     */
    @Test
    void a_statement_timeout_in_the_url_too_short_for_the_migration_is_one_line() {
        var database = dev.robots.TestDatabase.create("postgresql"); // fresh: the migration runs
        try {
            String url = database.env().get("DATABASE_URL");
            assertThat(start(Map.of("DATABASE_URL", url + (url.contains("?") ? "&" : "?")
                    + "options=-c%20statement_timeout%3D1")))
                    .hasMessageStartingWith("DATABASE_URL: PostgreSQL cancelled the schema's migration (")
                    .hasMessageEndingWith("): ERROR: canceling statement due to statement timeout; the "
                            + "statement_timeout in ?options= must leave it time");
        } finally {
            database.close();
        }
    }

    @Test
    void a_setting_in_the_url_that_postgresql_refuses_is_one_line_with_its_message() {
        // A password PostgreSQL's trust authentication ignores, so that the line can be seen not to quote it.
        String admin = dev.robots.TestDatabase.ADMIN_URL.replaceFirst("://([^:@/]+)@", "://$1:secret-pw@");
        for (String setting : new String[] {"statement_timeout%3Dabc", "no_such_setting%3D1"}) {
            try (var logs = new LogCapture(Level.WARNING)) {
                assertThat(start(Map.of("DATABASE_URL", admin + "?options=-c%20" + setting)))
                        .hasMessageStartingWith("DATABASE_URL: PostgreSQL refuses it: ")
                        .hasMessageContaining(setting.substring(0, setting.indexOf('%')))
                        .hasMessageNotContaining("secret-pw");
                assertThat(logs.lines()).isEmpty();
            }
        }
    }

    @Test
    void a_postgresql_port_where_nothing_listens_is_one_line_naming_the_variable() throws Exception {
        int closed;
        try (var socket = new java.net.ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        assertThat(start(Map.of("DATABASE_URL", "postgresql://robots:secret-pw@127.0.0.1:" + closed + "/robots")))
                .isInstanceOf(ConfigurationError.class)
                .hasMessageStartingWith("DATABASE_URL: PostgreSQL cannot be reached: ")
                .hasMessageContaining(Integer.toString(closed))
                .hasMessageNotContaining("secret-pw");
    }

    @Test
    void a_data_dir_in_use_by_another_instance_names_it() {
        var env = Map.of("PORT", "0", "METRICS_PORT", "0", "HOST", "127.0.0.1", "DATA_DIR", dataDir.toString(),
                "API_TOKENS", "a-token-of-16-characters");
        try (var first = new Stopping(Application.start(Config.from(env)))) {
            Throwable error = catchThrowable(() -> Application.start(Config.from(env)).stop());
            assertThat(error).isInstanceOf(ConfigurationError.class).hasMessage(
                    ("DATA_DIR %s is in use by another running instance; give each instance its own DATA_DIR, or "
                            + "all of them one DATABASE_URL").formatted(dataDir.toAbsolutePath().normalize()));
        }
        // Released when the first stopped.
        Application.start(Config.from(env)).stop();
    }

    private record Stopping(Application app) implements AutoCloseable {
        @Override
        public void close() {
            app.stop();
        }
    }
}
