package dev.robots.robots;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import io.vertx.core.http.HttpMethod;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The robot read, the service's hot path, is the first route with a path parameter the router tries (each such route
 * costs a regular-expression match per request that reaches it), and the id's spelling is checked without one, to the
 * same rule as before.
 */
class RobotReadRouteTest {
    /** The rule as a regular expression, as it was written before: one spelling per id. */
    private static final Pattern DIGITS = Pattern.compile("0|[1-9][0-9]{0,18}");

    @RegisterExtension
    final RunningService service = RunningService.onFresh("h2", Map.of());

    @Test
    void the_robot_read_is_the_first_route_with_a_path_parameter() {
        var first = service.app().routes().stream()
                .filter(route -> route.getPath() != null && route.getPath().contains(":"))
                .findFirst().orElseThrow();
        assertThat(first.getPath()).isEqualTo("/v1/robots/:id");
        assertThat(first.methods()).containsExactlyInAnyOrder(HttpMethod.GET, HttpMethod.HEAD);
    }

    @Test
    void an_id_is_spelled_as_the_regular_expression_said() {
        var random = new Random(42);
        String alphabet = "0123456789+-a ٣";
        for (int i = 0; i < 200_000; i++) {
            var candidate = new StringBuilder();
            int length = random.nextInt(22);
            for (int j = 0; j < length; j++) {
                // Mostly digits, so that long valid numbers and leading zeros come up often.
                candidate.append(random.nextInt(10) < 8 ? (char) ('0' + random.nextInt(10))
                        : alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String raw = candidate.toString();
            assertThat(RobotRequests.wholeNumber(raw)).as("'%s'", raw).isEqualTo(DIGITS.matcher(raw).matches());
        }
        assertThat(RobotRequests.wholeNumber(null)).isFalse();
    }
}
