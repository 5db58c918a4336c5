package dev.robots.robots;

import static dev.robots.robots.RobotsApiContract.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The writes H2 cannot hold up with a row lock: PostgreSQL's table locks, as an operator's {@code LOCK TABLE} or a
 * migration takes them, hold up a create and a repair.
 */
class PostgresWritesUnderLocksTest extends WritesUnderLocksContract {
    PostgresWritesUnderLocksTest() {
        super("postgresql");
    }

    @Test
    void a_create_held_up_by_a_table_lock_is_a_503_and_no_robot_appears_and_its_key_is_free_again() throws Exception {
        HttpResponse<String> plain;
        HttpResponse<String> keyed;
        try (Connection holder = hold("LOCK TABLE robots IN EXCLUSIVE MODE")) {
            plain = service.sendJson("POST", "/v1/robots", "{\"name\": \"ghost\"}");
            keyed = create("ghost", "key-under-lock");
            holder.rollback();
        }
        quiesce();
        for (var answer : List.of(plain, keyed)) {
            assertProblem(answer, 503);
            assertThat(answer.headers().firstValue("Retry-After")).isPresent();
        }
        assertThat(robotsNamed("ghost")).isZero();
        // The failed write released its key: the retry runs it, once.
        assertThat(create("ghost", "key-under-lock").statusCode()).isEqualTo(201);
        assertThat(create("ghost", "key-under-lock").headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(robotsNamed("ghost")).isOne();
    }

    @Test
    void a_repair_held_up_by_a_table_lock_is_a_503_and_queues_nothing() throws Exception {
        long id = service.create("unrepaired");
        HttpResponse<String> answer;
        try (Connection holder = hold("LOCK TABLE repairs IN EXCLUSIVE MODE")) {
            answer = service.send("POST", "/v1/robots/" + id + "/repair", null, null);
            holder.rollback();
        }
        quiesce();
        assertProblem(answer, 503);
        assertThat(answer.headers().firstValue("Retry-After")).isPresent();
        assertThat(new JsonObject(service.get("/v1/robots/" + id + "/repairs").body()).getJsonArray("repairs"))
                .isEmpty();
    }

    private HttpResponse<String> create(String name, String key) {
        return service.send(service.request("POST", "/v1/robots", "application/json",
                        new JsonObject().put("name", name).encode())
                .header("Authorization", "Bearer " + RunningService.TOKEN)
                .header("Idempotency-Key", key));
    }

    private long robotsNamed(String name) throws Exception {
        try (Connection c = service.database().connect();
                var statement = c.prepareStatement("SELECT count(*) FROM robots WHERE name = ?")) {
            statement.setString(1, name);
            var rows = statement.executeQuery();
            rows.next();
            return rows.getLong(1);
        }
    }
}
