package dev.robots.repairs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.Eventually;
import dev.robots.RunningService;
import dev.robots.TestDatabase;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Durable repairs and their status monitor, over HTTP against the real service; run on each database by a subclass. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RepairsContract {
    private static final String FORM = "application/x-www-form-urlencoded";
    private final String kind;
    @RegisterExtension
    final RunningService service;

    RepairsContract(String kind) {
        this.kind = kind;
        service = RunningService.onFresh(kind);
    }

    @Test
    void a_repair_is_recorded_before_its_202_which_points_to_its_status_monitor() throws InterruptedException {
        long robot = service.create("R2-D2");
        Instant before = Instant.now().minusSeconds(5);

        var accepted = service.send("POST", "/v1/robots/" + robot + "/repair", null, null);

        assertThat(accepted.statusCode()).isEqualTo(202);
        assertThat(accepted.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        var repair = new JsonObject(accepted.body());
        assertThat(repair.fieldNames()).containsExactly("id", "robot_id", "status", "message", "created_at",
                "started_at", "finished_at", "failure");
        assertThat(repair.getLong("robot_id")).isEqualTo(robot);
        assertThat(repair.getString("status")).isEqualTo("queued"); // it runs after the response
        assertThat(repair.getString("message")).isEqualTo("Start repairing R2-D2.");
        assertThat(Instant.parse(repair.getString("created_at"))).isAfter(before);
        assertThat(repair.getString("created_at")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(repair.getString("started_at")).isNull();
        assertThat(accepted.headers().firstValue("Location")).hasValue("/v1/repairs/" + repair.getLong("id"));

        var done = awaitFinished(accepted);
        assertThat(done.getString("status")).isEqualTo("done");
        assertThat(done.getString("failure")).isNull();
        assertThat(Instant.parse(done.getString("finished_at")))
                .isAfterOrEqualTo(Instant.parse(done.getString("started_at")));
        assertThat(Instant.parse(done.getString("started_at")))
                .isAfterOrEqualTo(Instant.parse(done.getString("created_at")));
        assertThat(listed(robot).getLong("repairs")).isEqualTo(1);
        // One clock, the database's, and one transaction: the robot's repaired_at is the repair's finished_at (the
        // worker's clock put finished_at 2 ms after it, and a started_at 27 ms before a created_at).
        assertThat(listed(robot).getString("repaired_at")).isEqualTo(done.getString("finished_at"));
    }

    @Test
    void the_seeds_form_route_records_a_repair_too() throws InterruptedException {
        long robot = service.create("BB-8");
        var accepted = service.send("POST", "/v1/robots/repair", FORM, "robot_id=" + robot);

        assertThat(accepted.statusCode()).isEqualTo(202);
        assertThat(new JsonObject(accepted.body()).getString("message")).isEqualTo("Start repairing BB-8.");
        assertThat(awaitFinished(accepted).getString("status")).isEqualTo("done");
        assertThat(listed(robot).getLong("repairs")).isEqualTo(1);
    }

    @Test
    void a_robots_repairs_are_listed_newest_first_in_pages() throws InterruptedException {
        long robot = service.create("listed");
        long other = service.create("other");
        long[] ids = new long[5];
        for (int i = 0; i < 5; i++) {
            ids[i] = new JsonObject(service.send("POST", "/v1/robots/" + robot + "/repair", null, null).body())
                    .getLong("id");
        }
        service.send("POST", "/v1/robots/" + other + "/repair", null, null);

        var first = new JsonObject(service.get("/v1/robots/" + robot + "/repairs?limit=2").body());
        assertThat(first.getJsonArray("repairs").stream().map(r -> ((JsonObject) r).getLong("id")))
                .containsExactly(ids[4], ids[3]);
        assertThat(first.getString("next")).isEqualTo("/v1/robots/%d/repairs?limit=2&after=%d".formatted(robot, ids[3]));
        var second = new JsonObject(service.get(first.getString("next")).body());
        assertThat(second.getJsonArray("repairs").stream().map(r -> ((JsonObject) r).getLong("id")))
                .containsExactly(ids[2], ids[1]);
        var last = new JsonObject(service.get(second.getString("next")).body());
        assertThat(last.getJsonArray("repairs").stream().map(r -> ((JsonObject) r).getLong("id")))
                .containsExactly(ids[0]);
        assertThat(last.getValue("next")).isNull();
        var all = new JsonObject(service.get("/v1/robots/" + robot + "/repairs").body());
        assertThat(all.getJsonArray("repairs")).hasSize(5);
        assertThat(all.getValue("next")).isNull();
    }

    /**
     * {@code after=0} starts the repairs' list where leaving it out does, as it starts the robots' list: it was read as
     * "ids below 0" and answered an empty first page, {@code next: null}, as if the robot had no repairs.
     */
    @Test
    void after_0_starts_a_robots_repairs_at_the_newest_as_it_starts_the_robots_list() {
        long robot = service.create("after zero");
        long[] ids = new long[3];
        for (int i = 0; i < 3; i++) {
            ids[i] = new JsonObject(service.send("POST", "/v1/robots/" + robot + "/repair", null, null).body())
                    .getLong("id");
        }
        var page = new JsonObject(service.get("/v1/robots/" + robot + "/repairs?limit=2&after=0").body());
        assertThat(page.getJsonArray("repairs").stream().map(r -> ((JsonObject) r).getLong("id")))
                .containsExactly(ids[2], ids[1]);
        assertThat(page.getString("next")).isEqualTo("/v1/robots/%d/repairs?limit=2&after=%d".formatted(robot, ids[1]));
        var all = new JsonObject(service.get("/v1/robots/" + robot + "/repairs?after=0").body());
        assertThat(all.getJsonArray("repairs").stream().map(r -> ((JsonObject) r).getLong("id")))
                .containsExactly(ids[2], ids[1], ids[0]);
        assertThat(all.getValue("next")).isNull();
    }

    @Test
    void a_repair_or_delete_sent_with_a_body_is_a_415_and_changes_nothing() {
        long robot = service.create("no body");
        for (String method : new String[] {"POST", "DELETE"}) {
            String path = "/v1/robots/" + robot + (method.equals("POST") ? "/repair" : "");
            var refused = service.send(method, path, "application/json", "{\"robot_id\": 1}");
            assertProblem(refused, 415);
            assertThat(refused.body()).contains("takes no body");
        }
        assertThat(listed(robot).getLong("repairs")).isZero();
        assertThat(new JsonObject(service.get("/v1/robots/" + robot + "/repairs").body()).getJsonArray("repairs"))
                .isEmpty();
        assertThat(service.get("/v1/robots/" + robot).statusCode()).isEqualTo(200);
    }

    @Test
    void missing_repairs_and_robots_are_404s_and_bad_ids_400s() {
        assertProblem(service.get("/v1/repairs/999999999"), 404);
        assertProblem(service.get("/v1/robots/999999999/repairs"), 404);
        assertProblem(service.get("/v1/repairs/abc"), 400);
        assertProblem(service.get("/v1/repairs/0"), 400);
        assertProblem(service.get("/v1/robots/1/repairs?limit=0"), 400);
        assertProblem(service.get("/v1/robots/1/repairs?after=-1"), 400);
        assertProblem(service.send("POST", "/v1/robots/999999999/repair", null, null), 404);
        assertProblem(service.send("DELETE", "/v1/repairs/1", null, null), 405);
    }

    @Test
    void repairs_need_the_token() {
        long robot = service.create("guarded");
        var request = service.request("POST", "/v1/robots/" + robot + "/repair", null, null);
        assertProblem(service.send(request), 401);
        assertProblem(service.send(service.request("POST", "/v1/robots/repair", FORM, "robot_id=" + robot)), 401);
    }

    @Test
    void if_match_on_a_repair_is_checked_against_the_robots_etag() throws InterruptedException {
        var created = service.sendJson("POST", "/v1/robots", "{\"name\": \"conditional\"}");
        long robot = new JsonObject(created.body()).getLong("id");
        String etag = created.headers().firstValue("ETag").orElseThrow();

        var refused = service.send(service.request("POST", "/v1/robots/" + robot + "/repair", null, null)
                .header("Authorization", "Bearer " + RunningService.TOKEN).header("If-Match", "\"nope\""));
        assertProblem(refused, 412);
        assertThat(refused.headers().firstValue("ETag")).hasValue(etag);
        var refusedForm = service.send(service.request("POST", "/v1/robots/repair", FORM, "robot_id=" + robot)
                .header("Authorization", "Bearer " + RunningService.TOKEN).header("If-Match", "\"0-999\""));
        assertProblem(refusedForm, 412);

        var accepted = service.send(service.request("POST", "/v1/robots/" + robot + "/repair", null, null)
                .header("Authorization", "Bearer " + RunningService.TOKEN).header("If-Match", etag));
        assertThat(accepted.statusCode()).isEqualTo(202);
        awaitFinished(accepted);
        assertThat(listed(robot).getLong("repairs")).isEqualTo(1); // the refused ones were never recorded
    }

    @Test
    void the_same_idempotency_key_records_one_repair() throws InterruptedException {
        long robot = service.create("once");
        HttpResponse<String> first = null;
        for (int i = 0; i < 3; i++) {
            var response = service.send(service.request("POST", "/v1/robots/" + robot + "/repair", null, null)
                    .header("Authorization", "Bearer " + RunningService.TOKEN)
                    .header("Idempotency-Key", "repair-" + robot));
            assertThat(response.statusCode()).isEqualTo(202);
            if (first == null) {
                first = response;
                assertThat(response.headers().firstValue("Idempotent-Replayed")).isEmpty();
            } else {
                assertThat(response.body()).isEqualTo(first.body());
                assertThat(response.headers().firstValue("Location")).isEqualTo(first.headers().firstValue("Location"));
                assertThat(response.headers().firstValue("Idempotent-Replayed")).hasValue("true");
            }
        }
        awaitFinished(first);
        assertThat(new JsonObject(service.get("/v1/robots/" + robot + "/repairs").body()).getJsonArray("repairs"))
                .hasSize(1);
        assertThat(listed(robot).getLong("repairs")).isEqualTo(1);
    }

    @Test
    void status_moves_from_queued_to_running_to_done_with_a_repair_duration() throws InterruptedException {
        try (var slow = RunningService.startOnFresh(kind, Map.of("REPAIR_DURATION_MS", "1500"))) {
            long robot = slow.create("slow");
            var accepted = slow.send("POST", "/v1/robots/" + robot + "/repair", null, null);
            assertThat(new JsonObject(accepted.body()).getString("status")).isEqualTo("queued");
            String location = accepted.headers().firstValue("Location").orElseThrow();

            var running = eventually(() -> new JsonObject(slow.get(location).body()),
                    repair -> !repair.getString("status").equals("queued"));
            assertThat(running.getString("status")).isEqualTo("running");
            assertThat(running.getString("started_at")).isNotNull();
            assertThat(running.getString("finished_at")).isNull();
            assertThat(listedOn(slow, robot).getLong("repairs")).isZero(); // not applied while it runs

            var done = eventually(() -> new JsonObject(slow.get(location).body()),
                    repair -> repair.getString("status").equals("done"));
            assertThat(done.getString("finished_at")).isNotNull();
            assertThat(listedOn(slow, robot).getLong("repairs")).isEqualTo(1);
        }
    }

    /**
     * A repair whose robot is deleted before it runs fails with a reason, and the others still run. The first instance
     * takes repairs far longer than its shutdown allows, so it puts them back in the queue when it stops; the second
     * runs them.
     */
    @Test
    void a_repair_of_a_deleted_robot_fails_with_a_reason_and_the_others_still_run() throws InterruptedException {
        try (var sharedDatabase = TestDatabase.create(kind)) {
            String doomedLocation;
            String keptLocation;
            long kept;
            try (var first = RunningService.start(sharedDatabase,
                    Map.of("REPAIR_DURATION_MS", "600000", "SHUTDOWN_TIMEOUT", "3"))) {
                long doomed = first.create("doomed");
                kept = first.create("kept");
                doomedLocation = first.send("POST", "/v1/robots/" + doomed + "/repair", null, null)
                        .headers().firstValue("Location").orElseThrow();
                keptLocation = first.send("POST", "/v1/robots/" + kept + "/repair", null, null)
                        .headers().firstValue("Location").orElseThrow();
                assertThat(first.send("DELETE", "/v1/robots/" + doomed, null, null).statusCode()).isEqualTo(204);
                assertThat(new JsonObject(first.get(doomedLocation).body()).getString("status"))
                        .isIn("queued", "running");
            }
            try (var second = RunningService.start(sharedDatabase)) {
                var failed = eventually(() -> new JsonObject(second.get(doomedLocation).body()),
                        repair -> repair.getString("status").equals("failed"));
                assertThat(failed.getString("failure")).contains("deleted");
                assertThat(failed.getString("finished_at")).isNotNull();
                var done = eventually(() -> new JsonObject(second.get(keptLocation).body()),
                        repair -> repair.getString("status").equals("done"));
                assertThat(done.getString("failure")).isNull();
                assertThat(listedOn(second, kept).getLong("repairs")).isEqualTo(1);
                assertThat(eventually(() -> second.scrape(),
                        metrics -> metrics.contains("robots_repairs_failed_total 1.0")))
                        .contains("robots_repairs_queued ", "robots_repairs_running ",
                                "robots_repairs_oldest_age_seconds ");
            }
        }
    }

    @Test
    void the_queue_shows_in_the_metrics() throws InterruptedException {
        var metrics = eventually(() -> service.scrape(),
                body -> body.contains("robots_repairs_queued"));
        assertThat(metrics).contains("robots_repairs_running ", "robots_repairs_failed_total ",
                "robots_repairs_oldest_age_seconds ");
    }

    private JsonObject awaitFinished(HttpResponse<String> accepted) throws InterruptedException {
        String location = accepted.headers().firstValue("Location").orElseThrow();
        return eventually(() -> new JsonObject(service.get(location).body()),
                repair -> repair.getString("status").equals("done") || repair.getString("status").equals("failed"));
    }

    private JsonObject listed(long id) {
        return listedOn(service, id);
    }

    /** The robot as the list shows it: a GET would be counted and might come from the read cache. */
    private static JsonObject listedOn(RunningService on, long id) {
        var response = on.get("/v1/robots?limit=1&after=" + (id - 1));
        return new JsonObject(response.body()).getJsonArray("robots").getJsonObject(0);
    }

    static void assertProblem(HttpResponse<String> response, int status) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(new JsonObject(response.body()).getInteger("status")).isEqualTo(status);
    }

    static <T> T eventually(Supplier<T> read, Predicate<T> done) throws InterruptedException {
        return Eventually.eventually(Duration.ofSeconds(20), read, done);
    }
}
