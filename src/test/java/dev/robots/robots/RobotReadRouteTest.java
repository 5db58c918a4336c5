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
 * The robot read, the service's hot path, is answered before any route with a path parameter is tried (each such route
 * costs a regular-expression match, its groups and a map per request that reaches it), by a prefix route that reads the
 * id in place, to the same rule as before.
 */
class RobotReadRouteTest {
    /** The rule as a regular expression, as it was written before: one spelling per id. */
    private static final Pattern DIGITS = Pattern.compile("0|[1-9][0-9]{0,18}");

    @RegisterExtension
    final RunningService service = RunningService.onFresh("h2", Map.of());

    @Test
    void the_robot_read_comes_before_every_route_with_a_path_parameter_and_has_none_itself() {
        var routes = service.app().routes();
        int read = -1;
        int firstWithParameter = -1;
        for (int i = 0; i < routes.size(); i++) {
            var route = routes.get(i);
            if (read < 0 && "/v1/robots/:id".equals(route.getName()) && route.getPath() != null
                    && !route.getPath().contains(":")) {
                read = i;
            }
            if (firstWithParameter < 0 && route.getPath() != null && route.getPath().contains(":")) {
                firstWithParameter = i;
            }
        }
        assertThat(read).as("a route named /v1/robots/:id without a parameter").isNotNegative();
        assertThat(read).isLessThan(firstWithParameter);
        assertThat(routes.get(read).methods()).containsExactlyInAnyOrder(HttpMethod.GET, HttpMethod.HEAD);
    }

    @Test
    void the_id_read_in_place_is_the_one_the_parameter_route_reads() {
        var random = new Random(7);
        for (int i = 0; i < 200_000; i++) {
            String raw = candidate(random, "0123456789/+-a ");
            long expected = -1;
            if (DIGITS.matcher(raw).matches()) {
                try {
                    expected = Long.parseLong(raw) > 0 ? Long.parseLong(raw) : -1;
                } catch (NumberFormatException tooLarge) {
                    expected = -1;
                }
            }
            assertThat(RobotRequests.idAfter("/v1/robots/" + raw, "/v1/robots/".length())).as("'%s'", raw)
                    .isEqualTo(expected);
        }
        assertThat(RobotRequests.idAfter("/v1/robots/9223372036854775807", 11)).isEqualTo(Long.MAX_VALUE);
        assertThat(RobotRequests.idAfter("/v1/robots/9223372036854775808", 11)).isEqualTo(-1);
        assertThat(RobotRequests.idAfter("/v1/robots", 11)).isEqualTo(-1);
    }

    /** What the prefix route passes on is answered by the routes after it, as before: a 400, a 404, a repair's route. */
    @Test
    void what_the_read_route_does_not_take_is_answered_as_before() {
        assertThat(service.get("/v1/robots/0").statusCode()).isEqualTo(400);
        assertThat(service.get("/v1/robots/01").statusCode()).isEqualTo(400);
        assertThat(service.get("/v1/robots/x").statusCode()).isEqualTo(400);
        assertThat(service.get("/v1/robots/9223372036854775808").statusCode()).isEqualTo(400);
        assertThat(service.get("/v1/robots/12345").statusCode()).isEqualTo(404);
        long id = service.create("R2-D2");
        assertThat(service.get("/v1/robots/" + id).statusCode()).isEqualTo(200);
        assertThat(service.get("/v1/robots/" + id + "/repair").statusCode()).isNotEqualTo(200);
        assertThat(service.scrape()).contains("route=\"/v1/robots/:id\"").doesNotContain("route=\"/v1/robots/\"");
    }

    @Test
    void an_id_is_spelled_as_the_regular_expression_said() {
        var random = new Random(42);
        for (int i = 0; i < 200_000; i++) {
            String raw = candidate(random, "0123456789+-a ٣");
            assertThat(RobotRequests.wholeNumber(raw)).as("'%s'", raw).isEqualTo(DIGITS.matcher(raw).matches());
        }
        assertThat(RobotRequests.wholeNumber(null)).isFalse();
    }

    /**
     * Up to 21 characters, mostly digits (so that long valid numbers and leading zeros come up often), the others
     * from {@code others}.
     */
    private static String candidate(Random random, String others) {
        var candidate = new StringBuilder();
        int length = random.nextInt(22);
        for (int j = 0; j < length; j++) {
            candidate.append(random.nextInt(10) < 8 ? (char) ('0' + random.nextInt(10))
                    : others.charAt(random.nextInt(others.length())));
        }
        return candidate.toString();
    }
}
