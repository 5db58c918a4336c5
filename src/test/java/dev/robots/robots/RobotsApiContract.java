package dev.robots.robots;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.Eventually;
import dev.robots.RunningService;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The API of version 1, over HTTP against the real service; run on each database by a subclass. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RobotsApiContract {
    @RegisterExtension
    final RunningService service;

    RobotsApiContract(String kind) {
        service = RunningService.onFresh(kind);
    }

    // --- create ---------------------------------------------------------------------------------------------------

    @Test
    void post_creates_a_robot_with_201_and_its_location() {
        Instant before = Instant.now().minusSeconds(5);
        var response = service.sendJson("POST", "/v1/robots", "{\"name\": \"  R2-D2 \"}");

        assertThat(response.statusCode()).isEqualTo(201);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        var robot = new JsonObject(response.body());
        assertThat(robot.fieldNames()).containsExactly("id", "name", "count", "created_at", "repairs", "repaired_at");
        assertThat(robot.getLong("id")).isPositive();
        assertThat(robot.getString("name")).isEqualTo("R2-D2");
        assertThat(robot.getLong("count")).isZero();
        assertThat(robot.getString("created_at")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(Instant.parse(robot.getString("created_at"))).isBetween(before, Instant.now().plusSeconds(5));
        assertThat(response.headers().firstValue("Location")).hasValue("/v1/robots/" + robot.getLong("id"));
    }

    @Test
    void each_robot_gets_its_own_creation_time() throws InterruptedException {
        long first = service.create("first");
        Thread.sleep(30);
        long second = service.create("second");

        assertThat(robot(first).getString("created_at")).isNotEqualTo(robot(second).getString("created_at"));
    }

    @Test
    void a_name_of_exactly_100_characters_is_accepted_and_counted_in_characters_not_bytes() {
        String name = "ロ".repeat(100);
        var response = service.sendJson("POST", "/v1/robots", new JsonObject().put("name", name).encode());

        assertThat(response.statusCode()).isEqualTo(201);
        assertThat(new JsonObject(response.body()).getString("name")).isEqualTo(name);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
        "{\"name\": \"R2\"",            // malformed
        "[\"R2-D2\"]",                  // not an object
        "\"R2-D2\"",                    // not an object
        "{}",                           // missing name
        "{\"name\": 123}",              // not a string
        "{\"name\": null}",
        "{\"name\": {\"first\": \"R2\"}}",
        "{\"name\": \"   \"}",          // blank
        "{\"name\": \"R2\"} trailing",   // garbage after the JSON
        "{\"name\": \"R2\"}{}",
        "{\"name\": \"R2\", \"name\": \"D2\"}", // duplicate key
        "{\"name\": \"R2\", \"colour\": \"blue\"}", // unknown field
        "{\"name\": \"R2\\u0007\"}",     // control character
        ""                              // empty body
    })
    void a_bad_body_is_a_400_problem(String body) {
        assertProblem(service.sendJson("POST", "/v1/robots", body), 400);
    }

    /** A name of control characters alone was "blank", which names nothing to change; the first one is named. */
    @Test
    void a_control_character_in_a_name_is_a_400_that_names_it_even_when_it_is_all_there_is() {
        for (String[] body : new String[][] {{"{\"name\": \"\\u0000\"}", "U+0000"},
                {"{\"name\": \"R2\\u0007D2\"}", "U+0007"}, {"{\"name\": \"\\u009f\"}", "U+009F"}}) {
            var response = service.sendJson("POST", "/v1/robots", body[0]);
            assertProblem(response, 400);
            assertThat(detail(response)).as(body[0]).contains("control characters").contains(body[1])
                    .doesNotContain("blank");
        }
    }

    @Test
    void a_name_over_100_characters_is_a_400_that_says_so() {
        var response = service.sendJson("POST", "/v1/robots", "{\"name\": \"" + "x".repeat(101) + "\"}");

        assertProblem(response, 400);
        assertThat(detail(response)).contains("at most 100 characters");
    }

    /**
     * A repeated key is valid JSON (RFC 8259 4: names SHOULD be unique), and the OpenAPI promises a detail that says
     * which part of the rule a body breaks: it was "The body is not valid JSON (line 1, column 19)." An escaped
     * spelling of the name is the same name.
     */
    @Test
    void a_name_given_twice_is_a_400_that_says_so_not_invalid_json() {
        for (String body : new String[] {"{\"name\":\"a\",\"name\":\"b\"}",
                "{\"name\": \"a\", \"n\\u0061me\": \"a\"}"}) {
            var response = service.sendJson("POST", "/v1/robots", body);
            assertProblem(response, 400);
            assertThat(detail(response)).as(body).doesNotContain("not valid JSON").contains("name more than once");
        }
    }

    /**
     * A query's parameter names are case-sensitive: {@code LIMIT} is not {@code limit}, and is ignored as any name the
     * API does not know. Vert.x's case-insensitive parameters paged {@code ?LIMIT=1} by one and refused
     * {@code ?Limit=1&limit=2} as "Give limit once, not 2 times".
     */
    @Test
    void query_parameter_names_are_case_sensitive() {
        service.create("case-one");
        service.create("case-two");
        var upper = service.get("/v1/robots?LIMIT=1&AFTER=999999999");
        assertThat(upper.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(upper.body()).getJsonArray("robots").size()).isGreaterThan(1);
        var both = service.get("/v1/robots?Limit=1&limit=2");
        assertThat(both.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(both.body()).getJsonArray("robots").size()).isEqualTo(2);
    }

    /**
     * Parameters are separated by {@code &} alone, as browsers, caches and proxies read a query: Netty's decoder also
     * split at {@code ;}, so {@code ?limit=1;after=ID} paged from ID where everyone else saw one parameter, limit,
     * with a value no page size has.
     */
    @Test
    void a_semicolon_does_not_separate_query_parameters() {
        long first = service.create("semi-one");
        service.create("semi-two");
        var semicolon = service.get("/v1/robots?limit=1;after=" + first);
        assertProblem(semicolon, 400);
        assertThat(new JsonObject(semicolon.body()).getString("detail")).contains("'1;after=" + first + "'");
        var unknown = service.get("/v1/robots?limit=1&x=1;after=" + first);
        assertThat(unknown.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(unknown.body()).getJsonArray("robots").getJsonObject(0).getLong("id"))
                .isLessThanOrEqualTo(first);
    }

    /**
     * A body that starts with a byte order mark (some editors and Windows tools write one) is a 400 that names it:
     * it was "The body is not valid JSON (line 1, column 1).", of JSON that is fine after the mark. Nothing is stored.
     */
    @Test
    void a_byte_order_mark_is_a_400_that_names_it() {
        var response = service.sendJson("POST", "/v1/robots", "\uFEFF{\"name\": \"bom\"}");
        assertProblem(response, 400);
        assertThat(detail(response)).doesNotContain("not valid JSON").contains("byte order mark");
    }

    /**
     * A 10,000-digit number is valid JSON (RFC 8259 sets no limit), past what the parser reads: the problem says so,
     * where it is, and what the body takes. It was "The body is not valid JSON."
     */
    @Test
    void a_number_too_long_to_read_is_a_400_that_says_so_not_invalid_json() {
        for (String body : new String[] {"{\"name\": " + "1".repeat(10_000) + "}", "1".repeat(10_000),
                "{\"name\": \"R2\"} " + "9".repeat(1_001)}) {
            var response = service.sendJson("POST", "/v1/robots", body);
            assertProblem(response, 400);
            assertThat(detail(response)).as(body.substring(0, 12)).doesNotContain("not valid JSON")
                    .contains("number longer than 1000 digits").contains("name a JSON string");
        }
        assertThat(detail(service.sendJson("POST", "/v1/robots", "{\"name\": " + "1".repeat(1_000) + "}")))
                .isEqualTo("name must be a JSON string.");
    }

    @Test
    void an_unknown_field_is_named_in_the_problem() {
        assertThat(detail(service.sendJson("POST", "/v1/robots", "{\"name\": \"R2\", \"colour\": \"blue\"}")))
                .contains("'colour'");
    }

    @Test
    void a_body_that_is_not_json_is_a_415() {
        assertProblem(service.send("POST", "/v1/robots", "text/plain", "{\"name\": \"R2\"}"), 415);
        assertProblem(service.send("POST", "/v1/robots", null, "{\"name\": \"R2\"}"), 415);
        assertProblem(service.send("PATCH", "/v1/robots/1", "application/x-www-form-urlencoded", "name=R2"), 415);
    }

    @Test
    void a_json_content_type_with_utf8_charset_is_accepted() {
        assertThat(service.send("POST", "/v1/robots", "application/json; charset=UTF-8", "{\"name\": \"R2\"}")
                .statusCode()).isEqualTo(201);
    }

    @Test
    void a_body_over_the_limit_is_a_413() {
        String huge = "{\"name\": \"" + "x".repeat(20_000) + "\"}";
        assertProblem(service.sendJson("POST", "/v1/robots", huge), 413);
    }

    // --- read -----------------------------------------------------------------------------------------------------

    @Test
    void get_answers_the_seeds_message_and_the_robot() {
        long id = service.create("R2-D2");
        var response = service.get("/v1/robots/" + id);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        var body = new JsonObject(response.body());
        assertThat(body.fieldNames()).first().isEqualTo("message");
        assertThat(body.getString("message")).isEqualTo("Robot is R2-D2.");
        assertThat(body.getLong("id")).isEqualTo(id);
        assertThat(body.getString("name")).isEqualTo("R2-D2");
        assertThat(body.getLong("count")).isNotNegative();
    }

    @Test
    void get_of_a_missing_robot_is_a_404() {
        var response = service.get("/v1/robots/999999999");
        assertProblem(response, 404);
        assertThat(detail(response)).isEqualTo("There is no robot with id 999999999.");
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"abc", "0", "-1", "1.5", "1e3", "+1", "9223372036854775808", "99999999999999999999999",
        "%20", "0x10", "007", "١٢٣"})
    void an_id_that_is_not_a_positive_64_bit_integer_is_a_400(String id) {
        for (String method : new String[] {"GET", "PATCH", "DELETE"}) {
            assertProblem(service.sendJson(method, "/v1/robots/" + id, "{\"name\": \"R2\"}"), 400);
        }
        assertProblem(service.send("POST", "/v1/robots/" + id + "/repair", null, null), 400);
    }

    @Test
    void the_largest_id_is_valid_and_simply_missing() {
        assertProblem(service.get("/v1/robots/9223372036854775807"), 404);
    }

    // --- list -----------------------------------------------------------------------------------------------------

    @Test
    void list_pages_through_all_robots_in_id_order() {
        for (int i = 0; i < 5; i++) {
            service.create("page-" + i);
        }
        var seen = new java.util.ArrayList<Long>();
        String next = "/v1/robots?limit=2";
        int pages = 0;
        while (next != null) {
            var response = service.get(next);
            assertThat(response.statusCode()).isEqualTo(200);
            var body = new JsonObject(response.body());
            JsonArray robots = body.getJsonArray("robots");
            assertThat(robots.size()).isBetween(1, 2);
            robots.forEach(r -> seen.add(((JsonObject) r).getLong("id")));
            next = body.getString("next");
            pages++;
        }
        assertThat(seen).isSorted().doesNotHaveDuplicates().hasSizeGreaterThanOrEqualTo(5);
        assertThat(pages).isEqualTo((seen.size() + 1) / 2);
    }

    @Test
    void the_next_link_names_the_limit_and_the_last_id() {
        long a = service.create("a");
        service.create("b");
        var body = new JsonObject(service.get("/v1/robots?limit=1&after=" + (a - 1)).body());

        assertThat(body.getJsonArray("robots").getJsonObject(0).getLong("id")).isEqualTo(a);
        assertThat(body.getString("next")).isEqualTo("/v1/robots?limit=1&after=" + a);
    }

    @Test
    void the_last_page_has_no_next() {
        var body = new JsonObject(service.get("/v1/robots?limit=500&after=9223372036854775806").body());
        assertThat(body.getJsonArray("robots")).isEmpty();
        assertThat(body.containsKey("next")).isTrue();
        assertThat(body.getValue("next")).isNull();
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"limit=0", "limit=501", "limit=abc", "limit=-1", "limit=", "limit=1&limit=2",
        "after=abc", "after=-1", "after=1.5", "after=99999999999999999999"})
    void bad_page_parameters_are_a_400(String query) {
        assertProblem(service.get("/v1/robots?" + query), 400);
    }

    /**
     * One spelling per page size, as per id and cursor: {@code limit=050} was a page of 50 while {@code after=050}
     * was a 400. Both lists read the same parameters.
     */
    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"limit=050", "limit=01", "limit=+5", "limit=%2B5", "limit=5.0", "after=050", "after=+1"})
    void a_page_parameter_with_a_sign_or_leading_zeros_is_a_400_on_both_lists(String query) {
        long id = service.create("spelled");
        assertProblem(service.get("/v1/robots?" + query), 400);
        assertProblem(service.get("/v1/robots/" + id + "/repairs?" + query), 400);
        assertThat(service.get("/v1/robots?limit=50").statusCode()).isEqualTo(200);
    }

    // --- change ---------------------------------------------------------------------------------------------------

    @Test
    void patch_renames_a_robot() {
        long id = service.create("R2-D2");
        var response = service.sendJson("PATCH", "/v1/robots/" + id, "{\"name\": \"C-3PO\"}");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(response.body()).getString("name")).isEqualTo("C-3PO");
        assertThat(robot(id).getString("name")).isEqualTo("C-3PO");
    }

    @Test
    void patch_of_a_missing_robot_is_a_404_and_a_bad_patch_a_400() {
        assertProblem(service.sendJson("PATCH", "/v1/robots/999999999", "{\"name\": \"C-3PO\"}"), 404);
        long id = service.create("R2-D2");
        assertProblem(service.sendJson("PATCH", "/v1/robots/" + id, "{\"name\": \"\"}"), 400);
        assertThat(robot(id).getString("name")).isEqualTo("R2-D2");
    }

    @Test
    void delete_removes_a_robot_with_204() {
        long id = service.create("doomed");
        var response = service.send("DELETE", "/v1/robots/" + id, null, null);

        assertThat(response.statusCode()).isEqualTo(204);
        assertThat(response.body()).isEmpty();
        assertProblem(service.get("/v1/robots/" + id), 404);
        assertProblem(service.send("DELETE", "/v1/robots/" + id, null, null), 404);
    }

    @Test
    void every_write_is_visible_to_every_later_request_even_after_count_flushes() throws InterruptedException {
        long counted = service.create("counted");
        service.get("/v1/robots/" + counted);
        service.flushedCount(counted); // a flush ran in a transaction on one of the pool's connections

        for (int i = 0; i < 20; i++) {
            long id = service.create("gone-" + i);
            assertThat(service.send("DELETE", "/v1/robots/" + id, null, null).statusCode()).isEqualTo(204);
            // Sequential requests spread over the pool's connections; each must see the delete.
            for (int read = 0; read < 4; read++) {
                assertThat(service.get("/v1/robots/" + id).statusCode()).isEqualTo(404);
            }
        }
    }

    @Test
    void a_cached_robot_shows_every_change_made_through_this_instance_at_once() throws InterruptedException {
        long id = service.create("cached");
        for (int i = 0; i < 3; i++) {
            assertThat(fetched(id).getString("name")).isEqualTo("cached"); // the first GET fills the cache
        }
        assertThat(service.app().cache().size()).isPositive();

        assertThat(service.sendJson("PATCH", "/v1/robots/" + id, "{\"name\": \"renamed\"}").statusCode())
                .isEqualTo(200);
        assertThat(fetched(id).getString("name")).isEqualTo("renamed");

        service.awaitFlushed(); // the four GETs above are written...
        assertThat(fetched(id).getLong("count")).isEqualTo(4); // ...and the cached answer shows them (a fifth)

        assertThat(service.send("POST", "/v1/robots/" + id + "/repair", null, null).statusCode()).isEqualTo(202);
        // The repair runs on the worker after the response; the cache is told right after its commit.
        eventually(() -> fetched(id), robot -> robot.getLong("repairs") == 1);

        assertThat(service.send("DELETE", "/v1/robots/" + id, null, null).statusCode()).isEqualTo(204);
        assertProblem(service.get("/v1/robots/" + id), 404);
    }

    // --- ETag and If-None-Match ---------------------------------------------------------------------------------

    private java.net.http.HttpResponse<String> getIfNoneMatch(long id, String tags) {
        return service.send(service.request("GET", "/v1/robots/" + id, null, null).header("If-None-Match", tags));
    }

    @Test
    void get_tags_the_robot_with_its_version_which_counts_do_not_move() throws InterruptedException {
        long id = service.create("tagged");
        var first = service.get("/v1/robots/" + id);
        assertThat(first.headers().firstValue("ETag")).hasValue("\"0\"");
        service.awaitFlushed();
        var second = service.get("/v1/robots/" + id);
        assertThat(new JsonObject(second.body()).getLong("count")).isEqualTo(1);
        assertThat(second.headers().firstValue("ETag")).as("the first GET's own count moved").hasValue("\"0\"");

        assertThat(service.sendJson("PATCH", "/v1/robots/" + id, "{\"name\": \"retagged\"}").statusCode())
                .isEqualTo(200);
        service.awaitFlushed();
        assertThat(service.get("/v1/robots/" + id).headers().firstValue("ETag")).hasValue("\"1\"");
    }

    @Test
    void if_none_match_gives_a_304_with_the_tag_and_no_body_and_counts_as_a_retrieval() throws InterruptedException {
        long id = service.create("conditional");
        String etag = service.get("/v1/robots/" + id).headers().firstValue("ETag").orElseThrow(); // fills the cache
        service.awaitFlushed();
        // The count moved since: the client's copy is still the robot's current state.
        var notModified = getIfNoneMatch(id, etag);
        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(notModified.headers().firstValue("ETag")).hasValue(etag);
        assertThat(notModified.body()).isEmpty();
        assertThat(getIfNoneMatch(id, "\"9\", W/" + etag).statusCode()).isEqualTo(304);
        assertThat(getIfNoneMatch(id, "*").statusCode()).isEqualTo(304);
        // Two header lines are one list: the tag in the second matches too.
        assertThat(service.send(service.request("GET", "/v1/robots/" + id, null, null)
                .header("If-None-Match", "\"9\"").header("If-None-Match", etag)).statusCode()).isEqualTo(304);

        var changed = getIfNoneMatch(id, "\"7\"");
        assertThat(changed.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(changed.body()).getString("name")).isEqualTo("conditional");

        // One GET, four 304s and one 200 above: six retrievals.
        assertThat(service.flushedCount(id)).isEqualTo(6);
        assertProblem(getIfNoneMatch(Long.MAX_VALUE, "*"), 404);
    }

    /**
     * If-None-Match is read as strictly as If-Match: text that is no entity tag, or `*` beside tags, is a 400 (not
     * counted), on a robot, a list and a repair alike. It was read leniently: `abc, "0"` and `*, "4"` answered 304,
     * `abc` and `w/"0"` a 200. A comma inside an entity tag's quotes is part of the tag.
     */
    @Test
    void an_if_none_match_that_cannot_be_read_is_a_400_and_is_not_counted() throws InterruptedException {
        long id = service.create("strict");
        for (String unreadable : List.of("abc", "abc, \"0\"", "*, \"0\"", "\"0\", *", "w/\"0\"", "\"0\" \"0\"",
                "\"0", "W/ \"0\"", "\"0\";x")) {
            for (String path : List.of("/v1/robots/" + id, "/v1/robots", "/v1/robots/" + id + "/repairs")) {
                var answer = service.send(service.request("GET", path, null, null).header("If-None-Match", unreadable));
                assertProblem(answer, 400);
                assertThat(detail(answer)).as(unreadable).contains("If-None-Match");
            }
        }
        assertThat(service.flushedCount(id)).as("a 400 retrieved nothing").isZero();
        // Before any look-up: what is missing does not answer 404 first.
        for (String path : List.of("/v1/robots/" + Long.MAX_VALUE, "/v1/robots/" + Long.MAX_VALUE + "/repairs",
                "/v1/repairs/" + Long.MAX_VALUE)) {
            assertProblem(service.send(service.request("GET", path, null, null).header("If-None-Match", "abc")), 400);
            assertProblem(service.send(service.request("GET", path, null, null).header("If-Match", "abc")), 400);
        }
        assertThat(getIfNoneMatch(id, "\"a,b\", \"0\"").statusCode()).isEqualTo(304);
        assertThat(getIfNoneMatch(id, " W/\"0\" ,, ").statusCode()).isEqualTo(304);
        assertThat(getIfNoneMatch(id, "\"a,b\"").statusCode()).isEqualTo(200);
        assertThat(service.flushedCount(id)).isEqualTo(3);
    }

    @Test
    void a_get_or_head_whose_if_match_does_not_match_is_a_412_with_the_current_etag_and_is_not_counted()
            throws InterruptedException {
        long id = service.create("guarded");
        var refused = read("GET", id, "If-Match", "\"99\""); // a miss, loaded from the database
        assertProblem(refused, 412);
        assertThat(refused.headers().firstValue("ETag")).hasValue("\"0\"");
        assertThat(detail(refused)).contains("\"0\"");
        var head = read("HEAD", id, "If-Match", "\"99\"");
        assertThat(head.statusCode()).isEqualTo(412);
        assertThat(head.headers().firstValue("ETag")).hasValue("\"0\"");
        assertThat(head.body()).isEmpty();
        assertProblem(read("GET", id, "If-Match", "W/\"0\""), 412); // weak tags never match a strong comparison
        // If-Match is evaluated before If-None-Match (RFC 9110 §13.2.2): a false one is a 412, not a 304.
        assertProblem(service.send(service.request("GET", "/v1/robots/" + id, null, null)
                .header("If-Match", "\"99\"").header("If-None-Match", "\"0\"")), 412);
        assertThat(service.flushedCount(id)).as("a read refused with 412 retrieved nothing").isZero();

        assertThat(read("GET", id, "If-Match", "*").statusCode()).isEqualTo(200); // fills the cache
        assertProblem(read("GET", id, "If-Match", "\"99\""), 412); // answered from the cache, the same
        assertThat(read("GET", id, "If-Match", "\"99\", \"0\"").statusCode()).isEqualTo(200);
        assertThat(read("HEAD", id, "If-Match", "\"0\"").statusCode()).isEqualTo(200);
        assertThat(service.send(service.request("GET", "/v1/robots/" + id, null, null)
                .header("If-Match", "\"0\"").header("If-None-Match", "\"0\"")).statusCode()).isEqualTo(304);
        assertThat(service.flushedCount(id)).as("three 200s and a 304, not the 412").isEqualTo(4);

        assertProblem(read("GET", Long.MAX_VALUE, "If-Match", "*"), 404); // nothing to match: a 404 whatever the condition
        assertProblem(read("GET", id, "If-Match", "nope"), 400);
    }

    private HttpResponse<String> read(String method, long id, String header, String value) {
        return service.send(service.request(method, "/v1/robots/" + id, null, null).header(header, value));
    }

    @Test
    void a_read_then_a_write_under_if_match_holds_while_counts_move() throws InterruptedException {
        long id = service.create("read-modify-write");
        String etag = service.get("/v1/robots/" + id).headers().firstValue("ETag").orElseThrow();
        service.awaitFlushed(); // the GET's own reference is written: the count moved, the state did not
        var renamed = service.send(service.request("PATCH", "/v1/robots/" + id, "application/json",
                "{\"name\": \"written\"}").header("If-Match", etag).header("Authorization", "Bearer " + RunningService.TOKEN));
        assertThat(renamed.statusCode()).isEqualTo(200);
        var stale = service.send(service.request("PATCH", "/v1/robots/" + id, "application/json",
                "{\"name\": \"lost update\"}").header("If-Match", etag).header("Authorization", "Bearer " + RunningService.TOKEN));
        assertThat(stale.statusCode()).isEqualTo(412);
        assertThat(new JsonObject(service.get("/v1/robots/" + id).body()).getString("name")).isEqualTo("written");
    }

    // --- repair ---------------------------------------------------------------------------------------------------

    @Test
    void repair_answers_202_and_the_repair_shows_on_the_robot() throws InterruptedException {
        long id = service.create("R2-D2");
        var response = service.send("POST", "/v1/robots/" + id + "/repair", null, null);

        assertThat(response.statusCode()).isEqualTo(202);
        assertThat(new JsonObject(response.body()).getString("message")).isEqualTo("Start repairing R2-D2.");
        var repaired = eventually(() -> robot(id), r -> r.getLong("repairs") == 1);
        assertThat(repaired.getString("repaired_at")).isNotNull();
    }

    @Test
    void the_seeds_form_repair_route_still_works() throws InterruptedException {
        long id = service.create("R2-D2");
        var response = service.send("POST", "/v1/robots/repair", "application/x-www-form-urlencoded",
                "robot_id=" + id);

        assertThat(response.statusCode()).isEqualTo(202);
        assertThat(new JsonObject(response.body()).getString("message")).isEqualTo("Start repairing R2-D2.");
        eventually(() -> robot(id), r -> r.getLong("repairs") == 1);
    }

    @Test
    void repair_of_a_missing_robot_is_a_404_and_a_bad_form_a_400_or_415() {
        assertProblem(service.send("POST", "/v1/robots/999999999/repair", null, null), 404);
        String form = "application/x-www-form-urlencoded";
        assertProblem(service.send("POST", "/v1/robots/repair", form, "robot_id=999999999"), 404);
        assertProblem(service.send("POST", "/v1/robots/repair", form, ""), 400);
        assertProblem(service.send("POST", "/v1/robots/repair", form, "robot_id=abc"), 400);
        assertProblem(service.send("POST", "/v1/robots/repair", form, "robot_id=1&robot_id=2"), 400);
        assertProblem(service.send("POST", "/v1/robots/repair", "application/json", "{\"robot_id\": 1}"), 415);
    }

    // --- routes ---------------------------------------------------------------------------------------------------

    @Test
    void an_unknown_route_is_a_404_problem() {
        assertProblem(service.get("/v2/robots"), 404);
        assertProblem(service.get("/v1/robots/1/arms"), 404);
    }

    @Test
    void a_wrong_method_is_a_405_with_allow() {
        assertAllow(service.send("PUT", "/v1/robots/1", "application/json", "{}"), "GET, HEAD, PATCH, DELETE");
        assertAllow(service.send("DELETE", "/v1/robots", null, null), "GET, HEAD, POST");
        assertAllow(service.get("/v1/robots/1/repair"), "POST");
        assertAllow(service.get("/v1/robots/repair"), "POST");
    }

    // --- helpers --------------------------------------------------------------------------------------------------

    /** The robot as GET /v1/robots/{id} answers it (cached or not), which counts a reference. */
    JsonObject fetched(long id) {
        var response = service.get("/v1/robots/" + id);
        assertThat(response.statusCode()).isEqualTo(200);
        return new JsonObject(response.body());
    }

    JsonObject robot(long id) {
        var response = service.get("/v1/robots?limit=1&after=" + (id - 1));
        return new JsonObject(response.body()).getJsonArray("robots").getJsonObject(0);
    }

    static void assertAllow(HttpResponse<String> response, String allow) {
        assertProblem(response, 405);
        assertThat(response.headers().firstValue("Allow")).hasValue(allow);
    }

    static void assertProblem(HttpResponse<String> response, int status) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        var problem = new JsonObject(response.body());
        assertThat(problem.getString("type")).isEqualTo("about:blank");
        assertThat(problem.getInteger("status")).isEqualTo(status);
        assertThat(problem.getString("title")).isNotBlank();
        assertThat(problem.getString("detail")).isNotBlank().doesNotContain("Exception").doesNotContain("\tat ");
    }

    static String detail(HttpResponse<String> response) {
        return new JsonObject(response.body()).getString("detail");
    }

    static <T> T eventually(java.util.function.Supplier<T> read, java.util.function.Predicate<T> done)
            throws InterruptedException {
        return Eventually.eventually(Duration.ofSeconds(10), read, done);
    }
}
