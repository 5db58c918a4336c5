package dev.robots.repairs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import dev.robots.TestDatabase;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A repair whose robot's row another session holds (a rename in flight, a {@code SELECT ... FOR UPDATE} left open in
 * psql) waits for it at most {@link RepairWorker#APPLY_LIMIT_MS}, then goes back in the queue: it is not failed for
 * someone else's lock (on H2 it was, after the session's 1 s lock timeout), and a shutdown does not wait for it (on
 * PostgreSQL it waited without bound, past SHUTDOWN_TIMEOUT, and left the last flush no time).
 */
class RepairsUnderLocksTest {

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgresql"})
    void a_repair_held_up_by_a_row_lock_goes_back_in_the_queue_and_is_done_once_the_lock_is_gone(String kind)
            throws Exception {
        try (var database = TestDatabase.create(kind); var service = RunningService.start(database, Map.of())) {
            long id = service.create("held");
            try (Connection holder = database.connect()) {
                holder.setAutoCommit(false);
                holder.createStatement().execute("SELECT id FROM robots WHERE id = " + id + " FOR UPDATE");
                assertThat(service.send("POST", "/v1/robots/" + id + "/repair", null, null).statusCode())
                        .isEqualTo(202);
                Thread.sleep(RepairWorker.APPLY_LIMIT_MS + 1_500);
                assertThat(statuses(service, id)).as("while the row is held").hasSize(1).isSubsetOf("queued", "running");
                holder.rollback();
            }
            long deadline = System.nanoTime() + 15_000_000_000L;
            while (!statuses(service, id).equals(List.of("done")) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(statuses(service, id)).isEqualTo(List.of("done"));
            assertThat(new JsonObject(service.get("/v1/robots/" + id).body()).getLong("repairs")).isEqualTo(1);
        }
    }

    @Test
    void a_shutdown_puts_back_a_repair_held_up_by_a_row_lock_instead_of_waiting_for_it() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var service = RunningService.start(database, Map.of("SHUTDOWN_TIMEOUT", "8"));
                Connection holder = database.connect()) {
            long id = service.create("held");
            holder.setAutoCommit(false);
            holder.createStatement().execute("SELECT id FROM robots WHERE id = " + id + " FOR UPDATE");
            assertThat(service.send("POST", "/v1/robots/" + id + "/repair", null, null).statusCode()).isEqualTo(202);
            Thread.sleep(500); // its apply is waiting for the row now

            long started = System.nanoTime();
            service.stop();
            long millis = (System.nanoTime() - started) / 1_000_000;
            holder.rollback();

            // Without the limit the stop waited out its whole budget (8 s less the flush's reserve) for the apply.
            assertThat(millis).as("time to stop").isLessThan(RepairWorker.APPLY_LIMIT_MS + 2_000);
            try (var statement = holder.createStatement();
                    var rows = statement.executeQuery("SELECT status, claim FROM repairs WHERE robot_id = " + id)) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getString("status")).as("put back for another instance").isEqualTo("queued");
                assertThat(rows.getString("claim")).isNull();
            }
        }
    }

    private static List<String> statuses(RunningService service, long id) {
        var statuses = new ArrayList<String>();
        var repairs = new JsonObject(service.get("/v1/robots/" + id + "/repairs").body()).getJsonArray("repairs");
        for (int i = 0; i < repairs.size(); i++) {
            statuses.add(repairs.getJsonObject(i).getString("status"));
        }
        return statuses;
    }
}
