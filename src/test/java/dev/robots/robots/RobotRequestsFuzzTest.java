package dev.robots.robots;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.robots.http.Problem;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import java.util.Map;

/**
 * Fuzz tests of the request-parsing paths: whatever the bytes, the answer is a valid name or id, or a 400 problem;
 * never another exception. In the normal test run they replay their seeds (regression mode); {@code bench/fuzz}
 * fuzzes them for longer.
 */
class RobotRequestsFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void a_body_gives_a_valid_name_or_a_400(byte[] body) {
        try {
            String name = RobotRequests.name(body);
            assertThat(name).isEqualTo(name.strip()).isNotEmpty();
            assertThat(name.codePointCount(0, name.length())).isBetween(1, RobotRequests.MAX_NAME_LENGTH);
            assertThat(name.codePoints()).noneMatch(Character::isISOControl)
                    .noneMatch(c -> Character.getType(c) == Character.SURROGATE);
        } catch (Problem problem) {
            assertThat(problem.status()).isEqualTo(400);
            assertThat(problem.detail()).isNotBlank();
        }
    }

    @FuzzTest(maxDuration = "30s")
    void a_path_id_gives_a_positive_long_or_a_400(FuzzedDataProvider data) {
        String raw = data.consumeRemainingAsString();
        try {
            long id = RobotRequests.positiveLong(raw, "The robot id");
            assertThat(id).isPositive();
            assertThat(Long.toString(id)).isEqualTo(raw);
        } catch (Problem problem) {
            assertThat(problem.status()).isEqualTo(400);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void a_query_string_gives_a_valid_page_or_a_400(FuzzedDataProvider data) {
        String query = data.consumeRemainingAsString();
        Map<String, List<String>> parameters;
        try {
            // How Vert.x decodes request.params(); what it cannot decode it answers with a 400 of its own before
            // any handler runs (HostileRequestsTest sends such queries over a socket).
            parameters = new QueryStringDecoder("/v1/robots?" + query).parameters();
        } catch (IllegalArgumentException undecodable) {
            return;
        }
        try {
            int limit = RobotRequests.limit(parameters.getOrDefault("limit", List.of()));
            assertThat(limit).isBetween(1, RobotRequests.MAX_PAGE_SIZE);
            long after = RobotRequests.after(parameters.getOrDefault("after", List.of()));
            assertThat(after).isNotNegative();
        } catch (Problem problem) {
            assertThat(problem.status()).isEqualTo(400);
            assertThat(problem.detail()).isNotBlank();
        }
    }
}
