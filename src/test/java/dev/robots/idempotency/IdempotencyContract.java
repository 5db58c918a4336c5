package dev.robots.idempotency;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Idempotency-Key on POST /v1/robots, over HTTP against the real service. On PostgreSQL a retry goes to a second
 * instance on the same database; the embedded H2 database has one instance, so there both are the same.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class IdempotencyContract {
    static final String OTHER_TOKEN = "other-token-0123456789";
    private static final Map<String, String> TOKENS = Map.of("API_TOKENS", RunningService.TOKEN + "," + OTHER_TOKEN);
    @RegisterExtension
    final RunningService first;
    RunningService second;

    IdempotencyContract(String kind) {
        first = RunningService.onFresh(kind, TOKENS);
    }

    @BeforeAll
    void startSecond() {
        second = first.database().name().equals("H2") ? first : RunningService.start(first.database(), TOKENS);
    }

    @AfterAll
    void stopSecond() {
        if (second != null && second != first) {
            second.stop();
        }
    }

    @Test
    void a_retry_with_the_same_key_and_body_gets_the_first_answer_again_from_another_instance() {
        var original = create(first, RunningService.TOKEN, "retry-1", "{\"name\": \"retried\"}");
        var retried = create(second, RunningService.TOKEN, "retry-1", "{\"name\": \"retried\"}");

        assertThat(original.statusCode()).isEqualTo(201);
        assertThat(original.headers().firstValue("Idempotent-Replayed")).isEmpty();
        assertThat(retried.statusCode()).isEqualTo(201);
        assertThat(retried.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(retried.body()).isEqualTo(original.body());
        assertThat(retried.headers().firstValue("Location")).isEqualTo(original.headers().firstValue("Location"));
        assertThat(retried.headers().firstValue("ETag")).isEqualTo(original.headers().firstValue("ETag"));
        assertThat(retried.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        assertThat(robotsNamed("retried")).isEqualTo(1);
    }

    @Test
    void concurrent_requests_with_one_key_to_two_instances_make_one_robot() throws Exception {
        for (int round = 0; round < 5; round++) {
            String key = "concurrent-" + round;
            String name = "concurrent " + round;
            var start = new CountDownLatch(1);
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            try (var clients = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 8; i++) {
                    var instance = i % 2 == 0 ? first : second;
                    answers.add(clients.submit(() -> {
                        start.await();
                        return create(instance, RunningService.TOKEN, key, new JsonObject().put("name", name).encode());
                    }));
                }
                start.countDown();
            }
            int originals = 0;
            for (var answer : answers) {
                var response = answer.get();
                if (response.statusCode() == 409) {
                    assertThat(response.headers().firstValue("Retry-After")).hasValue("1");
                    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
                } else {
                    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
                    if (response.headers().firstValue("Idempotent-Replayed").isEmpty()) {
                        originals++;
                    }
                }
            }
            assertThat(originals).as("round %d", round).isEqualTo(1);
            assertThat(robotsNamed(name)).as("round %d", round).isEqualTo(1);
        }
    }

    @Test
    void the_same_key_with_another_body_or_path_is_a_422() {
        assertThat(create(first, RunningService.TOKEN, "reused", "{\"name\": \"one\"}").statusCode()).isEqualTo(201);

        var otherBody = create(second, RunningService.TOKEN, "reused", "{\"name\": \"two\"}");
        assertThat(otherBody.statusCode()).isEqualTo(422);
        assertThat(otherBody.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(new JsonObject(otherBody.body()).getString("detail")).contains("Idempotency-Key 'reused'");
        long id = first.create("repairable");
        var otherPath = first.send(first.request("POST", "/v1/robots/" + id + "/repair", null, null)
                .header("Authorization", "Bearer " + RunningService.TOKEN).header("Idempotency-Key", "reused"));
        assertThat(otherPath.statusCode()).isEqualTo(422);
        assertThat(robotsNamed("two")).isZero();
    }

    /**
     * A retry whose If-Match differs is another request: it replayed the first one's 202, though its condition does
     * not hold (the robot's ETag is "0", the retry asked for "7").
     */
    @Test
    void the_same_key_with_another_if_match_is_a_422() {
        long id = first.create("conditional");
        String path = "/v1/robots/" + id + "/repair";
        var original = repair(first, path, "cond-1", "\"0\"");
        assertThat(original.statusCode()).as(original.body()).isEqualTo(202);

        for (String other : new String[] {"\"7\"", "*", null}) {
            var retried = repair(second, path, "cond-1", other);
            assertThat(retried.statusCode()).as("If-Match " + other + ": " + retried.body()).isEqualTo(422);
            assertThat(new JsonObject(retried.body()).getString("detail")).contains("If-Match");
        }
        var same = repair(second, path, "cond-1", "\"0\", W/\"0\"");
        assertThat(same.statusCode()).as(same.body()).isEqualTo(202);
        assertThat(same.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(same.body()).isEqualTo(original.body());
    }

    private static HttpResponse<String> repair(RunningService instance, String path, String key, String ifMatch) {
        var request = instance.request("POST", path, null, null)
                .header("Authorization", "Bearer " + RunningService.TOKEN).header("Idempotency-Key", key);
        if (ifMatch != null) {
            request.header("If-Match", ifMatch);
        }
        return instance.send(request);
    }

    @Test
    void keys_belong_to_their_token() {
        var mine = create(first, RunningService.TOKEN, "shared-key", "{\"name\": \"scoped\"}");
        var theirs = create(second, OTHER_TOKEN, "shared-key", "{\"name\": \"scoped\"}");

        assertThat(theirs.statusCode()).isEqualTo(201);
        assertThat(theirs.headers().firstValue("Idempotent-Replayed")).isEmpty();
        assertThat(theirs.headers().firstValue("Location")).isNotEqualTo(mine.headers().firstValue("Location"));
        assertThat(robotsNamed("scoped")).isEqualTo(2);
    }

    @Test
    void a_key_that_is_not_1_to_255_visible_ascii_characters_is_a_400() {
        for (String key : List.of("x".repeat(256), "with space", "tab\there")) {
            var response = create(first, RunningService.TOKEN, key, "{\"name\": \"badly keyed\"}");
            assertThat(response.statusCode()).as(key).isEqualTo(400);
            assertThat(new JsonObject(response.body()).getString("detail")).contains("Idempotency-Key");
        }
        assertThat(create(first, RunningService.TOKEN, "x".repeat(255), "{\"name\": \"long key\"}").statusCode())
                .isEqualTo(201);
        assertThat(robotsNamed("badly keyed")).isZero();
    }

    /**
     * PATCH and DELETE take no Idempotency-Key, and say so with a 400 that changes nothing: the key was ignored, and a
     * client that sent one believed its retry was covered by it (a 504 tells it to retry with the same key).
     */
    @Test
    void a_key_on_a_patch_or_delete_is_a_400_that_says_they_take_none_and_changes_nothing() {
        long id = new JsonObject(first.sendJson("POST", "/v1/robots", "{\"name\": \"unkeyed\"}").body()).getLong("id");
        var rename = first.send(first.request("PATCH", "/v1/robots/" + id, "application/json", "{\"name\": \"keyed\"}")
                .header("Authorization", "Bearer " + RunningService.TOKEN).header("Idempotency-Key", "patch-1"));
        var delete = first.send(first.request("DELETE", "/v1/robots/" + id, null, null)
                .header("Authorization", "Bearer " + RunningService.TOKEN).header("Idempotency-Key", "delete-1"));
        for (var refused : List.of(rename, delete)) {
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
            assertThat(new JsonObject(refused.body()).getString("detail")).contains("takes no Idempotency-Key");
        }
        var robot = first.get("/v1/robots/" + id);
        assertThat(robot.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(robot.body()).getString("name")).isEqualTo("unkeyed");
    }

    static HttpResponse<String> create(RunningService on, String token, String key, String body) {
        return on.send(on.request("POST", "/v1/robots", "application/json", body)
                .header("Authorization", "Bearer " + token)
                .header("Idempotency-Key", key));
    }

    /** Robots with this name, through every page of the list. */
    long robotsNamed(String name) {
        long count = 0;
        String page = "/v1/robots?limit=500";
        while (page != null) {
            var body = new JsonObject(first.get(page).body());
            count += body.getJsonArray("robots").stream()
                    .filter(robot -> name.equals(((JsonObject) robot).getString("name"))).count();
            page = body.getString("next");
        }
        return count;
    }
}
