package dev.robots.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.robots.Application;
import dev.robots.LogCapture;
import dev.robots.RunningService;
import dev.robots.TestDatabase;
import dev.robots.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * At the most verbose LOG_LEVEL, with every library's debug lines on, no log line holds a configured token, a token a
 * client presented, an Idempotency-Key, or DATABASE_URL's password, on the paths where secrets meet errors: refused
 * tokens, writes under an Idempotency-Key (one used again for another body too), a database login that fails.
 */
class SecretsInLogsTest {
    private static final String CONFIGURED = "Zq7ConfiguredToken0123";
    private static final String PRESENTED = "Zq7PresentedToken0123";
    private static final String PASSWORD = "Zq7Password0123";
    private static final String KEY = "Zq7IdempotencyKey0123";

    @Test
    void no_log_line_at_trace_level_holds_a_token_or_a_database_password() {
        Level before = Logger.getLogger("").getLevel();
        var texts = new ArrayList<String>();
        try (var logs = new LogCapture(Level.ALL)) {
            Logging.levels(Config.from(Map.of("LOG_LEVEL", "trace")).logLevels());
            assertThat(Logger.getLogger("io.netty").isLoggable(Level.FINEST)).isTrue();
            try (var service = RunningService.startOnFresh("h2",
                    Map.of("API_TOKENS", CONFIGURED, "ACCESS_LOG", "true"))) {
                for (String authorization : List.of("Bearer " + CONFIGURED, "Bearer " + PRESENTED, PRESENTED,
                        "Basic " + PRESENTED)) {
                    service.send(service.request("POST", "/v1/robots", "application/json", "{\"name\": \"R2-D2\"}")
                            .header("Authorization", authorization).header("Idempotency-Key", "key-1"));
                }
                service.send(service.request("POST", "/v1/robots?access_token=" + PRESENTED, "application/json", "{")
                        .header("Authorization", "Bearer " + CONFIGURED));
                // A key used again for another body: a 422 whose detail quotes the key, which Vert.x Web's routing
                // context logged at debug as "RoutingContext failure (500)".
                for (String name : List.of("C-3PO", "BB-8")) {
                    assertThat(service.send(service.request("POST", "/v1/robots", "application/json",
                                    "{\"name\": \"%s\"}".formatted(name))
                            .header("Authorization", "Bearer " + CONFIGURED).header("Idempotency-Key", KEY))
                            .statusCode()).isIn(201, 422);
                }
            }
            // A login PostgreSQL refuses (no such role), and a server that is not there.
            var admin = java.net.URI.create(TestDatabase.ADMIN_URL);
            for (String url : List.of("postgres://no_such_role:%s@%s:%d/postgres".formatted(PASSWORD, admin.getHost(),
                    admin.getPort()), "postgres://robots:%s@127.0.0.1:1/robots".formatted(PASSWORD))) {
                Throwable error = catchThrowable(() -> Application.start(Config.from(Map.of("PORT", "0",
                        "METRICS_PORT", "0", "HOST", "127.0.0.1", "DATABASE_URL", url, "DB_TIMEOUT_MS", "500",
                        "API_TOKENS", CONFIGURED))).stop());
                assertThat(error).as(url).isNotNull();
                texts.add(String.valueOf(error));
            }
            texts.addAll(logs.lines());
        } finally {
            Logging.levels(Map.of("", before == null ? Level.INFO : before));
        }
        assertThat(texts).isNotEmpty().noneMatch(text -> text.contains(CONFIGURED) || text.contains(PRESENTED)
                || text.contains(PASSWORD) || text.contains(KEY) || text.contains("RoutingContext failure"));
    }
}
