package dev.robots.robots;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.robots.system.Problem;

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
}
