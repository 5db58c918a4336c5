package dev.robots.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's configuration table is what {@link Config} reads: the same variables, each default the value the
 * variable takes when unset, and each range the one a value must be in. The table is what an operator sets a deploy
 * by; it had no ranges, and a value outside one stops the start.
 */
class ConfigDocumentedTest {
    private static final Pattern ROW = Pattern.compile("^\\| `([A-Z_]+)` \\| (.*?) \\| (.*?) \\| .* \\|$",
            Pattern.MULTILINE);
    private static final Pattern NUMBERS = Pattern.compile("^([0-9][0-9,]*) to ([0-9][0-9,]*)$");
    private static final Pattern CHOICE = Pattern.compile("`([a-z_]+)`");

    private record Row(String defaultValue, String values) {}

    /** The rows of the README's configuration table, by variable. */
    private static Map<String, Row> table() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("| variable | default | values | meaning |");
        assertThat(start).as("the configuration table, with its values column").isPositive();
        String table = readme.substring(start, readme.indexOf("\n\n", start));
        var rows = new LinkedHashMap<String, Row>();
        Matcher row = ROW.matcher(table);
        while (row.find()) {
            rows.put(row.group(1), new Row(row.group(2), row.group(3)));
        }
        return rows;
    }

    private static Set<String> variablesRead() {
        return new TreeSet<>(VariablesRead.all());
    }

    @Test
    void the_table_lists_every_variable_read_and_no_other() throws IOException {
        var read = variablesRead();
        // K_SERVICE is Cloud Run's, not a setting: the rows it changes (LOG_FORMAT, TRUST_PROXY) say what it does.
        read.remove("K_SERVICE");
        assertThat(table().keySet()).containsExactlyInAnyOrderElementsOf(read);
    }

    @Test
    void each_default_is_what_an_unset_variable_gives() throws IOException {
        Config unset = Config.from(Map.of());
        table().forEach((name, row) -> {
            if (row.defaultValue().startsWith("unset")) {
                return;
            }
            Matcher value = Pattern.compile("`([^`]+)`").matcher(row.defaultValue());
            assertThat(value.find()).as("%s has a default in backquotes", name).isTrue();
            assertThat(Config.from(Map.of(name, value.group(1)))).as("%s=%s", name, value.group(1)).isEqualTo(unset);
        });
    }

    @Test
    void each_range_is_the_one_the_start_enforces() throws IOException {
        int checked = 0;
        for (var entry : table().entrySet()) {
            String name = entry.getKey();
            Matcher numbers = NUMBERS.matcher(entry.getValue().values());
            if (numbers.matches()) {
                long min = Long.parseLong(numbers.group(1).replace(",", ""));
                long max = Long.parseLong(numbers.group(2).replace(",", ""));
                Config.from(Map.of(name, Long.toString(min)));
                Config.from(Map.of(name, Long.toString(max)));
                for (long outside : new long[] {min - 1, max + 1}) {
                    assertThatThrownBy(() -> Config.from(Map.of(name, Long.toString(outside))))
                            .as("%s=%d", name, outside).isInstanceOf(ConfigurationError.class)
                            .hasMessage("%s must be a whole number from %d to %d, not '%d'", name, min, max, outside);
                }
                checked++;
            } else if (entry.getValue().values().startsWith("`")) {
                Matcher choice = CHOICE.matcher(entry.getValue().values());
                while (choice.find()) {
                    Config.from(Map.of(name, choice.group(1)));
                }
                assertThatThrownBy(() -> Config.from(Map.of(name, "maybe"))).as(name)
                        .isInstanceOf(ConfigurationError.class).hasMessageStartingWith(name + " must be one of");
                checked++;
            }
        }
        assertThat(checked).as("variables with a range or a choice").isGreaterThanOrEqualTo(18);
    }
}
