package dev.robots.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** API_TOKENS and API_TOKENS_FILE: exactly the tokens written there, or a start that stops with one clear line. */
class TokensConfigTest {
    private static final String GOOD = "good-token-0123456789";

    @TempDir
    Path dir;

    @Test
    void a_token_file_holds_one_token_per_line_and_skips_comments_and_blank_lines() throws Exception {
        Path file = dir.resolve("tokens");
        Files.writeString(file, "# rotate monthly; the old one below is revoked\r\n#old-token-0123456789\r\n\r\n"
                + "  " + GOOD + "  \r\nsecond-token-0123456789\n\n");
        assertThat(Config.from(Map.of("API_TOKENS_FILE", file.toString())).apiTokens())
                .containsExactly(GOOD, "second-token-0123456789");
    }

    /** The API_TOKENS secret mounted as a file holds "a,b": two tokens, not one that no client sends. */
    @Test
    void a_token_file_line_may_list_tokens_comma_separated_as_api_tokens_does() throws Exception {
        Path file = dir.resolve("mounted-secret");
        Files.writeString(file, GOOD + ", second-token-0123456789,\nthird-token-0123456789\n");
        assertThat(Config.from(Map.of("API_TOKENS_FILE", file.toString())).apiTokens())
                .containsExactly(GOOD, "second-token-0123456789", "third-token-0123456789");
        Files.writeString(file, ",,\n");
        assertThat(catchThrowable(() -> Config.from(Map.of("API_TOKENS_FILE", file.toString()))))
                .isInstanceOf(ConfigurationError.class).hasMessageContaining("holds no token");
    }

    @Test
    void api_tokens_is_split_on_commas_only() {
        assertThat(Config.from(Map.of("API_TOKENS", " " + GOOD + " ,, other-token-0123456789,")).apiTokens())
                .containsExactly(GOOD, "other-token-0123456789");
    }

    @Test
    void a_token_with_whitespace_inside_stops_the_start_without_naming_it() throws Exception {
        Path file = dir.resolve("tokens");
        Files.writeString(file, "correct horse battery staple\n");
        for (var env : new Map[] {Map.of("API_TOKENS", "correct horse battery staple"),
            Map.of("API_TOKENS", "correct\thorse-battery-staple"), Map.of("API_TOKENS_FILE", file.toString())}) {
            @SuppressWarnings("unchecked")
            Throwable error = catchThrowable(() -> Config.from(env));
            assertThat(error).as(env.toString()).isInstanceOf(ConfigurationError.class)
                    .hasMessageContaining("whitespace inside").hasNoCause();
            assertThat(error.getMessage()).doesNotContain("horse").doesNotContain("\n");
        }
    }

    @Test
    void a_token_shorter_than_16_characters_stops_the_start() {
        Throwable error = catchThrowable(() -> Config.from(Map.of("API_TOKENS", GOOD + ",s3cret")));
        assertThat(error).isInstanceOf(ConfigurationError.class)
                .hasMessage("API_TOKENS: a token has 6 characters; at least 16 are needed");
        assertThat(Config.from(Map.of("API_TOKENS", "0123456789abcdef")).apiTokens()).hasSize(1);
    }

    @Test
    void a_token_file_that_is_empty_or_only_comments_stops_the_start() throws Exception {
        Path file = dir.resolve("tokens");
        for (String content : new String[] {"", "\n\r\n", "# " + GOOD + "\n"}) {
            Files.writeString(file, content);
            assertThat(catchThrowable(() -> Config.from(Map.of("API_TOKENS_FILE", file.toString()))))
                    .isInstanceOf(ConfigurationError.class).hasMessageContaining("holds no token");
        }
    }

    @Test
    void a_token_file_that_cannot_be_read_stops_the_start() {
        Path missing = dir.resolve("missing");
        assertThat(catchThrowable(() -> Config.from(Map.of("API_TOKENS", GOOD, "API_TOKENS_FILE", missing.toString()))))
                .isInstanceOf(ConfigurationError.class)
                .hasMessage("API_TOKENS_FILE %s cannot be read (NoSuchFileException)".formatted(missing));
    }

    @Test
    void neither_variable_set_means_no_configured_token() {
        assertThat(Config.from(Map.of()).apiTokens()).isEmpty();
    }
}
