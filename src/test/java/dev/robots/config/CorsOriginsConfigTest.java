package dev.robots.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Breaker finding: SECURITY.md promises CORS "never a wildcard", but CORS_ORIGINS=* reached Vert.x's CorsHandler,
 * where * means every origin: any site got Access-Control-Allow-Origin: * on reads and on preflights of writes. Only
 * whole origins, {@code scheme://host[:port]}, are taken; anything else stops the start naming the variable and item.
 */
class CorsOriginsConfigTest {

    @Test
    void a_wildcard_origin_stops_the_start() {
        for (String origins : new String[] {"*", "https://app.example.com,*"}) {
            Throwable error = catchThrowable(() -> Config.from(Map.of("CORS_ORIGINS", origins)));
            assertThat(error).as(origins).isInstanceOf(ConfigurationError.class).hasMessageContaining("CORS_ORIGINS");
        }
    }

    /**
     * Separators alone (a deploy's {@code CORS_ORIGINS=$A,$B} with both missing) stop the start, as they do for
     * API_TOKENS: they turned CORS off without a word, and a page of any origin was served.
     */
    @Test
    void separators_alone_stop_the_start() {
        for (String origins : new String[] {",", " , ,", ",,"}) {
            Throwable error = catchThrowable(() -> Config.from(Map.of("CORS_ORIGINS", origins)));
            assertThat(error).as(origins).isInstanceOf(ConfigurationError.class)
                    .hasMessageStartingWith("CORS_ORIGINS is set but holds no origin");
        }
        assertThat(Config.from(Map.of("CORS_ORIGINS", "")).corsOrigins()).isEmpty(); // empty is unset
    }

    @Test
    void what_is_not_an_origin_stops_the_start_naming_it() {
        for (String item : List.of("null", "https://a.example.com/path", "https://a.example.com/", "*.example.com",
                "https://*.example.com", "ftp://a.example.com", "a.example.com", "https://", "https://a.example.com:x",
                "https://a.example.com:99999", "https://user@a.example.com", "https://a.example.com?x",
                "https://a.example.com#x", "https://a..example.com")) {
            Throwable error = catchThrowable(
                    () -> Config.from(Map.of("CORS_ORIGINS", "https://ok.example.com," + item)));
            assertThat(error).as(item).isInstanceOf(ConfigurationError.class)
                    .hasMessageStartingWith("CORS_ORIGINS: '" + item + "' is not an origin")
                    .hasMessageNotContaining("\n");
        }
    }

    @Test
    void origins_are_taken_as_browsers_send_them() {
        var config = Config.from(Map.of("CORS_ORIGINS",
                "https://app.example.com, http://localhost:3000,HTTPS://Admin.Example.COM,http://127.0.0.1:8080,"
                        + "http://[::1]:5173"));
        assertThat(config.corsOrigins()).containsExactly("https://app.example.com", "http://localhost:3000",
                "https://admin.example.com", "http://127.0.0.1:8080", "http://[::1]:5173");
    }

    @Test
    void a_default_port_is_dropped_as_browsers_drop_it() {
        var config = Config.from(Map.of("CORS_ORIGINS", "https://app.example.com:443,http://app.example.com:80,"
                + "http://app.example.com:443,https://x.example:08443"));
        assertThat(config.corsOrigins()).containsExactly("https://app.example.com", "http://app.example.com",
                "http://app.example.com:443", "https://x.example:8443");
    }

    @Test
    void an_ipv6_address_is_kept_in_the_short_form_browsers_send() {
        var config = Config.from(Map.of("CORS_ORIGINS", "https://[0:0::2],http://[2001:DB8:0:0:0:0:0:1]:8080"));
        assertThat(config.corsOrigins()).containsExactly("https://[::2]", "http://[2001:db8::1]:8080");
    }

    @Test
    void a_port_or_address_no_browser_can_send_stops_the_start() {
        for (String item : List.of("https://x.example:0", "https://x.example:00000", "https://[1.2.3.4]",
                "https://[::g]")) {
            assertThatThrownBy(() -> Config.from(Map.of("CORS_ORIGINS", item)))
                    .as(item).isInstanceOf(ConfigurationError.class).hasMessageContaining("CORS_ORIGINS");
        }
    }
}
