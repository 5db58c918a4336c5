package dev.robots.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.robots.Application;
import dev.robots.LogCapture;
import dev.robots.config.Config;
import dev.robots.config.ConfigurationError;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * DATABASE_URL's password never reaches a log line or an error, whatever the URL: malformed URLs, passwords with
 * every character that means something in a URL, hosts that do not resolve or do not answer.
 */
class DatabaseUrlSecrecyTest {
    /** What each password below contains; no log line or error text may. */
    private static final String MARKER = "Zq7MarkerSecret";

    /** Passwords as people make them, raw and percent-encoded, with the marker inside. */
    private static final List<String> PASSWORDS = List.of(MARKER, MARKER + "/ab+cd==", "a/" + MARKER + "+b",
            MARKER + "@x", MARKER + "#frag", MARKER + "?q=1", MARKER + "%", MARKER + "%zz", MARKER + "%2", "%" + MARKER,
            MARKER + ":colon", MARKER + " space", MARKER + "%2F%2B", MARKER + "%C3%28", MARKER + "\\back",
            MARKER + "[", MARKER + "]", MARKER + "\"'`", MARKER + "ü€");

    /** URL shapes around a password P, most of them wrong in some way. */
    private static final List<String> SHAPES = List.of("postgres://robots:P@db.invalid:5432/robots",
            "postgresql://robots:P@127.0.0.1:1/robots", "jdbc:postgresql://robots:P@127.0.0.1:1/robots",
            "postgres://robots:P@", "postgres://robots:P@:notaport/robots", "postgres://robots:P@host:99999/robots",
            "postgres://robots:P@[::1/robots", "postgres://:P@127.0.0.1:1/robots", "postgres//robots:P@host/robots",
            "mysql://robots:P@host/robots", "postgres://robots:P@host/robots?sslmode=%", "P",
            "postgres://robots:P", "postgres://robots:P@host/robots#P", "postgres://robots:P@host/robots?password=P",
            "postgres://robots:P@/robots?host=/nonexistent/socket");

    @Test
    void no_parse_of_any_url_quotes_its_password() {
        for (String shape : SHAPES) {
            for (String password : PASSWORDS) {
                String url = shape.replace("P", password);
                Throwable error = catchThrowable(() -> DatabaseTarget.postgres(url));
                if (error != null) {
                    assertThat(error).as(url).isInstanceOf(ConfigurationError.class);
                    assertThat(everything(error)).as(url).doesNotContain(MARKER);
                } else {
                    DatabaseTarget target = DatabaseTarget.postgres(url);
                    assertThat(target.describe()).as(url).doesNotContain(MARKER);
                    assertThat(target.jdbcUrl(java.time.Duration.ofSeconds(1))).as(url).doesNotContain(MARKER);
                }
            }
        }
    }

    /**
     * A user or password given both before the {@code @} and as a parameter stops the start (the parameter silently
     * won: {@code postgres://app:s3cret@db/robots?user=postgres} logged in as postgres), as a URL with no user at all
     * does (the reactive client logged in as "user", a role nobody named). No message quotes either value.
     */
    @Test
    void a_user_or_password_given_twice_or_no_user_stops_the_start() {
        for (String url : List.of("postgres://app:" + MARKER + "@db/robots?user=postgres",
                "postgres://app:" + MARKER + "@db/robots?password=" + MARKER,
                "postgres://app@db/robots?user=" + MARKER)) {
            assertThat(catchThrowable(() -> DatabaseTarget.postgres(url))).as(url)
                    .isInstanceOf(ConfigurationError.class).hasMessageContaining("twice")
                    .hasMessageNotContaining(MARKER);
        }
        for (String url : List.of("postgres://db/robots", "postgres://:" + MARKER + "@db/robots",
                "postgres://db/robots?password=" + MARKER)) {
            assertThat(catchThrowable(() -> DatabaseTarget.postgres(url))).as(url)
                    .isInstanceOf(ConfigurationError.class).hasMessageContaining("names no user")
                    .hasMessageNotContaining(MARKER);
        }
        assertThat(DatabaseTarget.postgres("postgres://db/robots?user=app&password=" + MARKER).user()).isEqualTo("app");
        assertThat(DatabaseTarget.postgres("postgres://app:" + MARKER + "@db/robots").user()).isEqualTo("app");
    }

    @Test
    void a_password_with_url_characters_works_raw_or_percent_encoded() {
        assertThat(DatabaseTarget.postgres("postgres://robots:ab/cd+ef==@db:5432/robots").password())
                .isEqualTo("ab/cd+ef==");
        assertThat(DatabaseTarget.postgres("postgres://robots:a%2Fb%2Bc%40d%25e%3F%23@db/robots").password())
                .isEqualTo("a/b+c@d%e?#");
        assertThat(DatabaseTarget.postgres("postgres://robots:p@ss@db/robots").password()).isEqualTo("p@ss");
        var target = DatabaseTarget.postgres("postgresql://ro-bots:x/y@db:6543/robots?sslmode=disable");
        assertThat(target.user()).isEqualTo("ro-bots");
        assertThat(target.pgOptions().getHost()).isEqualTo("db");
        assertThat(target.pgOptions().getPort()).isEqualTo(6543);
        assertThat(target.jdbcUrl()).isEqualTo("jdbc:postgresql://db:6543/robots?sslmode=disable");
        var inQuery = DatabaseTarget.postgres("postgres://db/robots?user=ro&password=a%2Bb+c&sslmode=disable");
        assertThat(inQuery.user()).isEqualTo("ro");
        assertThat(inQuery.password()).isEqualTo("a+b+c");
        assertThat(inQuery.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/robots?sslmode=disable");
    }

    @Test
    void a_stray_percent_says_the_password_must_be_percent_encoded() {
        assertThat(catchThrowable(() -> DatabaseTarget.postgres("postgres://robots:" + MARKER + "%zz@db/robots")))
                .isInstanceOf(ConfigurationError.class)
                .hasMessageContaining("percent-encode the password").hasMessageNotContaining(MARKER);
    }

    @Test
    void no_start_with_any_url_logs_its_password() {
        var texts = new ArrayList<String>();
        try (var logs = new LogCapture(Level.ALL)) {
            for (String shape : SHAPES) {
                // Two passwords per shape: a start that reaches the database waits up to DB_TIMEOUT_MS.
                for (String password : List.of(MARKER + "/ab+cd==", MARKER + "%zz")) {
                    String url = shape.replace("P", password);
                    Throwable error = catchThrowable(() -> Application.start(Config.from(Map.of("PORT", "0", "METRICS_PORT", "0",
                            "HOST", "127.0.0.1", "DATABASE_URL", url, "DB_TIMEOUT_MS", "200",
                            "API_TOKENS", "a-token-of-16-characters"))).stop());
                    assertThat(error).as(url).isNotNull();
                    texts.add(everything(error));
                }
            }
            texts.addAll(logs.lines());
        }
        assertThat(texts).isNotEmpty().noneMatch(text -> text.contains(MARKER));
    }

    /** An error as a log line with its stack trace would show it: messages, causes, suppressed. */
    private static String everything(Throwable error) {
        var text = new StringWriter();
        error.printStackTrace(new PrintWriter(text));
        return text.toString();
    }
}
