package dev.robots.repairs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.LogCapture;
import dev.robots.RunningService;
import dev.robots.TestDatabase;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.Test;

/** Three instances, each with its own repair worker, taking repairs on one PostgreSQL database. */
class MultiInstanceRepairsTest {
    private static final int ROBOTS = 20;
    private static final int REPAIRS = 300;

    @Test
    void three_instances_taking_300_repairs_of_20_robots_apply_each_exactly_once() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql"); var logs = new LogCapture()) {
            var services = new ArrayList<RunningService>();
            try {
                for (int i = 0; i < 3; i++) {
                    // The shortest lease: under load on a small machine some run out, and other workers take those
                    // repairs over while the first still holds them, which the claim guard must make harmless.
                    services.add(RunningService.start(database, Map.of("REPAIR_LEASE_MS", "300", "DB_POOL_SIZE", "4")));
                }
                var robots = new ArrayList<Long>();
                for (int i = 0; i < ROBOTS; i++) {
                    robots.add(services.get(i % 3).create("repaired-" + i));
                }

                var inFlight = new Semaphore(24);
                List<Future<HttpResponse<String>>> answers = new ArrayList<>();
                try (var clients = Executors.newVirtualThreadPerTaskExecutor()) {
                    for (int i = 0; i < REPAIRS; i++) {
                        var service = services.get(i % 3);
                        long robot = robots.get(i % ROBOTS);
                        boolean form = i % 2 == 0;
                        answers.add(clients.submit(() -> {
                            inFlight.acquire();
                            try {
                                return form
                                        ? service.send("POST", "/v1/robots/repair",
                                                "application/x-www-form-urlencoded", "robot_id=" + robot)
                                        : service.send("POST", "/v1/robots/" + robot + "/repair", null, null);
                            } finally {
                                inFlight.release();
                            }
                        }));
                    }
                }
                int accepted = 0;
                var refused = new ArrayList<String>();
                for (var answer : answers) {
                    if (answer.get().statusCode() == 202) {
                        accepted++;
                    } else {
                        refused.add(answer.get().statusCode() + " " + answer.get().body());
                    }
                }
                // Said on failure: once, with the machine's load average at 7 (other test runs beside it), 4 of the
                // 300 were not 202.
                assertThat(accepted).as("answers other than 202: %s", refused).isEqualTo(REPAIRS);

                try (Connection c = database.connect()) {
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (scalar(c, "SELECT COUNT(*) FROM repairs WHERE status IN ('queued', 'running')") > 0
                            && System.nanoTime() < deadline) {
                        Thread.sleep(50);
                    }
                    assertThat(scalar(c, "SELECT COUNT(*) FROM repairs WHERE status = 'done'")).isEqualTo(accepted);
                    assertThat(scalar(c, "SELECT SUM(repairs) FROM robots")).isEqualTo(accepted);
                    // Each robot moved once per repair of its own, never twice.
                    assertThat(scalar(c, "SELECT COUNT(*) FROM robots r WHERE repairs <> "
                            + "(SELECT COUNT(*) FROM repairs p WHERE p.robot_id = r.id)")).isZero();
                }
            } finally {
                services.forEach(RunningService::stop);
            }
            assertThat(logs.lines()).noneMatch(line -> line.toLowerCase().contains("deadlock"));
        }
    }

    private static long scalar(Connection c, String sql) throws Exception {
        try (var rows = c.createStatement().executeQuery(sql)) {
            rows.next();
            return rows.getLong(1);
        }
    }
}
