package dev.robots.robots;

import static dev.robots.robots.RobotsApiContract.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.ApiContract;
import dev.robots.RunningService;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/** If-Match on the writes (RFC 9110 §13.1.1), and the ETags of the writes' answers; run on each database. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ConditionalWritesContract {
    @RegisterExtension
    final RunningService service;

    ConditionalWritesContract(String kind) {
        service = RunningService.onFresh(kind);
    }

    @Test
    void a_create_and_a_rename_carry_the_strong_etag_of_the_version() {
        var created = service.sendJson("POST", "/v1/robots", "{\"name\": \"tagged\"}");
        assertThat(created.headers().firstValue("ETag")).hasValue("\"0\"");
        long id = new JsonObject(created.body()).getLong("id");

        var renamed = service.sendJson("PATCH", "/v1/robots/" + id, "{\"name\": \"retagged\"}");
        assertThat(renamed.statusCode()).isEqualTo(200);
        assertThat(renamed.headers().firstValue("ETag")).hasValue("\"1\"");
    }

    @Test
    void a_rename_to_the_current_name_changes_nothing_and_keeps_the_etag() {
        var created = service.sendJson("POST", "/v1/robots", "{\"name\": \"same\"}");
        long id = new JsonObject(created.body()).getLong("id");
        for (int i = 0; i < 2; i++) {
            var unchanged = service.sendJson("PATCH", "/v1/robots/" + id, "{\"name\": \" same \"}");
            assertThat(unchanged.statusCode()).as(unchanged.body()).isEqualTo(200);
            assertThat(unchanged.headers().firstValue("ETag")).hasValue("\"0\"");
            assertThat(new JsonObject(unchanged.body()).getString("name")).isEqualTo("same");
        }
        assertThat(patch(id, "\"0\"", "same").headers().firstValue("ETag")).hasValue("\"0\"");
        assertThat(service.get("/v1/robots/" + id).headers().firstValue("ETag")).hasValue("\"0\"");
        // A real rename still moves it, once.
        assertThat(patch(id, "\"0\"", "other").headers().firstValue("ETag")).hasValue("\"1\"");
    }

    @Test
    void a_patch_whose_if_match_does_not_match_is_a_412_with_the_current_etag_and_changes_nothing() {
        var created = service.sendJson("POST", "/v1/robots", "{\"name\": \"kept\"}");
        long id = new JsonObject(created.body()).getLong("id");

        var refused = patch(id, "\"nope\"", "overwritten");
        assertProblem(refused, 412);
        assertThat(refused.headers().firstValue("ETag")).isEqualTo(created.headers().firstValue("ETag"));
        assertProblem(patch(id, "W/\"0-0\"", "overwritten"), 412); // weak tags never match a strong comparison
        assertThat(listed(id).getString("name")).isEqualTo("kept");

        var accepted = patch(id, "\"x1\", " + created.headers().firstValue("ETag").orElseThrow(), "renamed");
        assertThat(accepted.statusCode()).isEqualTo(200);
        assertThat(patch(id, "*", "starred").statusCode()).isEqualTo(200);
        assertThat(listed(id).getString("name")).isEqualTo("starred");
    }

    @Test
    void a_delete_whose_if_match_does_not_match_is_a_412_and_a_matching_one_a_204() {
        var created = service.sendJson("POST", "/v1/robots", "{\"name\": \"doomed\"}");
        long id = new JsonObject(created.body()).getLong("id");
        String etag = created.headers().firstValue("ETag").orElseThrow();

        var refused = delete(id, "\"0-999\"");
        assertProblem(refused, 412);
        assertThat(refused.headers().firstValue("ETag")).hasValue(etag);
        assertThat(delete(id, etag).statusCode()).isEqualTo(204);
        assertProblem(delete(id, "*"), 404); // nothing left to match
    }

    @Test
    void if_unmodified_since_without_if_match_is_refused_and_a_malformed_if_match_is_a_400() {
        long id = service.create("dated");
        var dated = service.send(service.request("DELETE", "/v1/robots/" + id, null, null)
                .header("Authorization", "Bearer " + RunningService.TOKEN)
                .header("If-Unmodified-Since", "Tue, 01 Dec 2026 00:00:00 GMT"));
        assertProblem(dated, 400);
        assertThat(new JsonObject(dated.body()).getString("detail")).contains("If-Match");
        assertProblem(patch(id, "nope", "unquoted"), 400);
        assertThat(listed(id).getString("name")).isEqualTo("dated");
    }

    @Test
    void if_none_match_on_a_write_and_star_beside_a_tag_are_refused_and_change_nothing() {
        long id = service.create("spared");
        String etag = service.get("/v1/robots/" + id).headers().firstValue("ETag").orElseThrow();
        for (var request : List.of(
                service.request("DELETE", "/v1/robots/" + id, null, null).header("If-None-Match", "*"),
                service.request("PATCH", "/v1/robots/" + id, "application/json", "{\"name\": \"renamed\"}")
                        .header("If-None-Match", etag),
                service.request("POST", "/v1/robots/" + id + "/repair", null, null).header("If-None-Match", "*"),
                service.request("DELETE", "/v1/robots/" + id, null, null).header("If-Match", "*, \"999\""),
                service.request("DELETE", "/v1/robots/" + id, null, null).header("If-Match", "\"999\"")
                        .header("If-Match", "*"))) {
            var refused = service.send(request.header("Authorization", "Bearer " + RunningService.TOKEN));
            assertProblem(refused, 400);
        }
        var robot = new JsonObject(service.get("/v1/robots/" + id).body());
        assertThat(robot.getString("name")).isEqualTo("spared");
        assertThat(robot.getLong("repairs")).isZero();
    }

    @Test
    void a_condition_on_a_create_is_refused_and_creates_nothing() {
        long before = service.create("before");
        for (String header : List.of("If-None-Match", "If-Match", "If-Unmodified-Since")) {
            String value = header.equals("If-Unmodified-Since") ? "Tue, 01 Dec 2026 00:00:00 GMT" : "*";
            var refused = service.send(service.request("POST", "/v1/robots", "application/json",
                    "{\"name\": \"conditional\"}").header(header, value)
                    .header("Authorization", "Bearer " + RunningService.TOKEN));
            assertProblem(refused, 400);
        }
        assertThat(service.create("after")).as("no robot was created in between").isEqualTo(before + 1);
    }

    @Test
    void two_clients_patching_with_the_same_if_match_get_exactly_one_200_and_one_412() throws Exception {
        for (int round = 0; round < 10; round++) {
            var created = service.sendJson("POST", "/v1/robots", "{\"name\": \"contested\"}");
            long id = new JsonObject(created.body()).getLong("id");
            String etag = created.headers().firstValue("ETag").orElseThrow();
            var start = new CountDownLatch(1);
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            try (var clients = Executors.newVirtualThreadPerTaskExecutor()) {
                for (String name : List.of("first", "second")) {
                    answers.add(clients.submit(() -> {
                        start.await();
                        return patch(id, etag, name);
                    }));
                }
                start.countDown();
            }
            var statuses = new ArrayList<Integer>();
            for (var answer : answers) {
                statuses.add(answer.get().statusCode());
            }
            assertThat(statuses).as("round %d", round).containsExactlyInAnyOrder(200, 412);
        }
    }

    /**
     * A page of robots, a robot's repairs and a repair have no ETag: If-Match with entity tags never holds for them
     * (RFC 9110 §13.1.1), so they answer 412 and send nothing; {@code *} holds. It was ignored (200). If-None-Match
     * with {@code *} does not hold (§13.1.2): 304.
     */
    @Test
    void if_match_with_tags_on_a_resource_without_an_etag_is_a_412_and_star_holds() {
        var created = service.sendJson("POST", "/v1/robots", "{\"name\": \"untagged\"}");
        long id = new JsonObject(created.body()).getLong("id");
        var repair = service.send(service.request("POST", "/v1/robots/" + id + "/repair", null, null)
                .header("Authorization", "Bearer " + RunningService.TOKEN));
        assertThat(repair.statusCode()).as(repair.body()).isEqualTo(202);
        String repairPath = repair.headers().firstValue("Location").orElseThrow();
        for (String path : List.of("/v1/robots", "/v1/robots/" + id + "/repairs", repairPath)) {
            for (String method : List.of("GET", "HEAD")) {
                var refused = service.send(service.request(method, path, null, null).header("If-Match", "\"0\""));
                assertThat(refused.statusCode()).as(method + " " + path).isEqualTo(412);
                if (method.equals("GET")) {
                    assertProblem(refused, 412);
                    assertThat(ApiContract.get().violations(refused)).as(path).isEmpty();
                }
                var star = service.send(service.request(method, path, null, null).header("If-Match", "*"));
                assertThat(star.statusCode()).as(method + " " + path + " *").isEqualTo(200);
                // If-None-Match: * is false for a resource that exists: 304, no body (it was a 200, where a
                // robot's GET answers 304); tags alone never match a resource without an ETag.
                for (String noneMatch : List.of("*", "*, ")) { // `*` beside a tag is a 400 (RobotsApiContract)
                    var current = service.send(service.request(method, path, null, null)
                            .header("If-None-Match", noneMatch));
                    assertThat(current.statusCode()).as(method + " " + path + " " + noneMatch).isEqualTo(304);
                    assertThat(current.body()).isEmpty();
                    assertThat(ApiContract.get().violations(current)).as(path).isEmpty();
                }
                assertThat(service.send(service.request(method, path, null, null).header("If-None-Match", "\"0\""))
                        .statusCode()).as(method + " " + path + " tag").isEqualTo(200);
            }
        }
        var missing = service.send(service.request("GET", "/v1/repairs/999999", null, null).header("If-Match", "\"0\""));
        assertThat(missing.statusCode()).as("a missing repair is a 404 whatever the condition").isEqualTo(404);
    }

    private HttpResponse<String> patch(long id, String ifMatch, String name) {
        return service.send(service.request("PATCH", "/v1/robots/" + id, "application/json",
                        new JsonObject().put("name", name).encode())
                .header("Authorization", "Bearer " + RunningService.TOKEN)
                .header("If-Match", ifMatch));
    }

    private HttpResponse<String> delete(long id, String ifMatch) {
        return service.send(service.request("DELETE", "/v1/robots/" + id, null, null)
                .header("Authorization", "Bearer " + RunningService.TOKEN)
                .header("If-Match", ifMatch));
    }

    private JsonObject listed(long id) {
        return new JsonObject(service.get("/v1/robots?limit=1&after=" + (id - 1)).body())
                .getJsonArray("robots").getJsonObject(0);
    }
}
