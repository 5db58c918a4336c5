package dev.robots.robots;

import static dev.robots.robots.RobotsApiContract.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import dev.robots.TestDatabase;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A write held up in the database past {@code REQUEST_TIMEOUT_MS} (a lock held by another session) is answered 503
 * "try again" only if it certainly did not happen: once the lock is gone, nothing it would have changed has changed.
 * It used to be answered 503 at the deadline while its statement still waited, and then commit. Run on each database.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WritesUnderLocksContract {
    @RegisterExtension
    final RunningService service;

    WritesUnderLocksContract(String kind) {
        service = RunningService.onFresh(kind);
    }

    @Test
    void writes_held_up_by_a_row_lock_are_503s_that_changed_nothing() throws Exception {
        long id = service.create("held");
        List<HttpResponse<String>> answers;
        try (Connection holder = hold("SELECT id FROM robots WHERE id = " + id + " FOR UPDATE")) {
            answers = List.of(
                    service.sendJson("PATCH", "/v1/robots/" + id, "{\"name\": \"changed\"}"),
                    service.send("DELETE", "/v1/robots/" + id, null, null),
                    service.send(service.request("POST", "/v1/robots/" + id + "/repair", null, null)
                            .header("Authorization", "Bearer " + RunningService.TOKEN)
                            .header("If-Match", "*")));
            holder.rollback();
        }
        quiesce();
        for (var answer : answers) {
            assertProblem(answer, 503);
            assertThat(answer.headers().firstValue("Retry-After")).isPresent();
        }
        var robot = new JsonObject(service.get("/v1/robots/" + id).body());
        assertThat(robot.getString("name")).isEqualTo("held");
        assertThat(robot.getLong("repairs")).isZero();
        assertThat(new JsonObject(service.get("/v1/robots/" + id + "/repairs").body()).getJsonArray("repairs"))
                .isEmpty();
    }

    /** A connection of the test's own, in a transaction that ran {@code statements}; closing it rolls back. */
    Connection hold(String... statements) throws SQLException {
        Connection holder = service.database().connect();
        holder.setAutoCommit(false);
        try (var statement = holder.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        } catch (SQLException e) {
            holder.close();
            throw e;
        }
        return holder;
    }

    /**
     * Waits until no statement of the service is running or waiting in the database, so that a write that was going
     * to commit after its answer has done so. PostgreSQL shows its sessions; on the embedded H2, a pause does.
     */
    void quiesce() throws Exception {
        if (!(service.database() instanceof TestDatabase.Postgres)) {
            Thread.sleep(1000);
            return;
        }
        try (Connection c = service.database().connect(); var statement = c.createStatement()) {
            for (int i = 0; i < 200; i++) {
                var rows = statement.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        + "current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                        + "AND state IN ('active', 'idle in transaction') AND query NOT LIKE '%LISTEN%'");
                rows.next();
                if (rows.getLong(1) == 0) {
                    return;
                }
                Thread.sleep(50);
            }
        }
        throw new AssertionError("the service's statements did not finish");
    }
}
