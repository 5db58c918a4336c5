package dev.robots.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.robots.observability.Logging;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** LOG_LEVEL: a level for every logger, then levels per logger. */
class LogLevelConfigTest {
    @Test
    void unset_is_info_for_every_logger() {
        assertThat(Config.from(Map.of()).logLevels()).containsExactly(Map.entry("", Level.INFO));
    }

    @Test
    void a_bare_level_is_the_root_loggers_and_named_loggers_get_their_own() {
        assertThat(Config.from(Map.of("LOG_LEVEL", "warn, dev.robots.counting=DEBUG,io.vertx=error")).logLevels())
                .containsExactly(Map.entry("", Level.WARNING), Map.entry("dev.robots.counting", Level.FINE),
                        Map.entry("io.vertx", Level.SEVERE));
    }

    @Test
    void per_logger_levels_alone_leave_the_root_at_info() {
        assertThat(Config.from(Map.of("LOG_LEVEL", "org.flywaydb=trace")).logLevels())
                .containsEntry("", Level.INFO).containsEntry("org.flywaydb", Level.FINEST);
    }

    /** {@code warning}, as Python's logging and the seed's uvicorn spell it, is {@code warn}; documented now. */
    @Test
    void warning_is_warn() {
        assertThat(Config.from(Map.of("LOG_LEVEL", "warning,io.vertx=WARNING")).logLevels())
                .containsExactly(Map.entry("", Level.WARNING), Map.entry("io.vertx", Level.WARNING));
    }

    /**
     * {@code K_SERVICE=""} (set but empty, as a deploy's {@code K_SERVICE=$UNSET} makes it) is unset, as any empty
     * variable is: it switched the logs to JSON and trusted X-Forwarded-For off Cloud Run.
     */
    @Test
    void an_empty_k_service_is_unset() {
        for (String empty : new String[] {"", " "}) {
            var config = Config.from(Map.of("K_SERVICE", empty));
            assertThat(config.logFormat()).as("'%s'", empty).isEqualTo(Logging.Format.TEXT);
            assertThat(config.trustProxy()).as("'%s'", empty).isFalse();
        }
        var cloudRun = Config.from(Map.of("K_SERVICE", "robots"));
        assertThat(cloudRun.logFormat()).isEqualTo(Logging.Format.JSON);
        assertThat(cloudRun.trustProxy()).isTrue();
    }

    /** A logger no code has set nothing, without a word: items are separated by commas, loggers named by package. */
    @ParameterizedTest
    @ValueSource(strings = {"info;dev.robots=debug", "info,dev robots=debug", "info,dev..robots=debug",
        "info,.dev=debug", "info,dev.robots.=debug", "info,1dev=debug"})
    void a_logger_name_that_no_logger_has_stops_the_start(String value) {
        assertThatThrownBy(() -> Config.from(Map.of("LOG_LEVEL", value)))
                .isInstanceOf(ConfigurationError.class).hasMessageContaining("is not a logger name");
        assertThat(Config.from(Map.of("LOG_LEVEL", "info,io.vertx.ext.web.RoutingContext=info,org.h2$x=warn"))
                .logLevels()).containsKeys("io.vertx.ext.web.RoutingContext", "org.h2$x");
    }

    @ParameterizedTest
    @ValueSource(strings = {"loud", "info,dev.robots=", "=debug", "info,dev.robots=verbose"})
    void anything_else_stops_the_start_and_says_what_it_takes(String value) {
        assertThatThrownBy(() -> Config.from(Map.of("LOG_LEVEL", value)))
                .isInstanceOf(ConfigurationError.class)
                .hasMessageContaining("LOG_LEVEL must be a level (trace, debug, info, warn or warning, error, off)");
    }
}
