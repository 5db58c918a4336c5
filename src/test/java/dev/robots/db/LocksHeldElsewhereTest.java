package dev.robots.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.Eventually;
import dev.robots.RunningService;
import dev.robots.TestDatabase;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A session elsewhere holds a lock and stays idle in its transaction (a client whose COMMIT a proxy swallowed, a hand
 * {@code SELECT ... FOR UPDATE} or {@code LOCK TABLE} in psql). Requests that need the lock are answered 503 at their
 * deadline, and must give their database connections back by then: statements that waited without a statement or lock
 * timeout kept their pooled connections parked behind the lock after the 503, until the pool was full and every
 * request needing the database was a 503. PostgreSQL only: the embedded database is open in one process, whose own
 * transactions are all bounded.
 */
class LocksHeldElsewhereTest {
    private static final String KEY = "held-elsewhere";
    private static final String BODY = "{\"name\": \"BB-8\"}";
    /** More requests than the service has connections for them. */
    private static final int REQUESTS = 6;

    private TestDatabase.Postgres database;
    private RunningService service;
    private Connection holder;

    @BeforeEach
    void start() throws Exception {
        database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
        service = RunningService.start(database, Map.of("DB_POOL_SIZE", "2", "REQUEST_TIMEOUT_MS", "1000"));
        holder = database.connect();
    }

    @AfterEach
    void stop() throws Exception {
        holder.close();
        service.close();
        database.close();
    }

    /** The row of a key as a COMMIT that never arrived leaves it: changed by a transaction that stays open. */
    @Test
    void retries_of_a_key_whose_row_is_held_by_an_open_transaction_give_their_connections_back() throws Exception {
        assertThat(keyed().statusCode()).isEqualTo(201);
        holder.setAutoCommit(false);
        holder.createStatement().executeUpdate("UPDATE idempotency_keys SET body = body WHERE idem_key = '" + KEY + "'");

        assertEveryAnswer(this::keyed, 503);
        assertConnectionsGivenBack();

        holder.rollback();
        var replayed = keyed();
        assertThat(replayed.statusCode()).isEqualTo(201);
        assertThat(replayed.headers().firstValue("Idempotent-Replayed")).hasValue("true");
    }

    /** An expired key is taken over by an UPDATE, which waits on a row lock taken by hand. */
    @Test
    void retries_of_an_expired_key_locked_by_hand_give_their_connections_back() throws Exception {
        assertThat(keyed().statusCode()).isEqualTo(201);
        holder.createStatement().executeUpdate("UPDATE idempotency_keys SET created_at = created_at - interval '25 "
                + "hours' WHERE idem_key = '" + KEY + "'");
        holder.setAutoCommit(false);
        holder.createStatement().executeQuery("SELECT * FROM idempotency_keys WHERE idem_key = '" + KEY + "' FOR UPDATE");

        assertEveryAnswer(this::keyed, 503);
        assertConnectionsGivenBack();

        holder.rollback();
        assertThat(keyed().statusCode()).isEqualTo(201);
    }

    /** Reads do not wait on row locks in PostgreSQL, but on a table's ACCESS EXCLUSIVE lock they do. */
    @Test
    void reads_behind_a_table_lock_give_their_connections_back() throws Exception {
        holder.setAutoCommit(false);
        holder.createStatement().execute("LOCK TABLE robots IN ACCESS EXCLUSIVE MODE");

        assertEveryAnswer(() -> service.get("/v1/robots"), 503);
        assertConnectionsGivenBack();
        // The repairs table is not locked: with the connections back, its reads are answered.
        assertThat(service.get("/v1/repairs/7").statusCode()).isEqualTo(404);

        holder.rollback();
        assertThat(service.get("/v1/robots").statusCode()).isEqualTo(200);
    }

    private HttpResponse<String> keyed() {
        return service.send(service.request("POST", "/v1/robots", "application/json", BODY)
                .header("Authorization", "Bearer " + RunningService.TOKEN)
                .header("Idempotency-Key", KEY));
    }

    /** Sends {@link #REQUESTS} at once; each must be answered {@code status}. */
    private static void assertEveryAnswer(Callable<HttpResponse<String>> request, int status) throws Exception {
        try (var clients = Executors.newVirtualThreadPerTaskExecutor()) {
            var answers = new ArrayList<Future<HttpResponse<String>>>();
            for (int i = 0; i < REQUESTS; i++) {
                answers.add(clients.submit(request));
            }
            for (var answer : answers) {
                assertThat(answer.get().statusCode()).as(answer.get().body()).isEqualTo(status);
            }
        }
    }

    /** No session of the service is left waiting on a lock once the requests that needed it were answered. */
    private void assertConnectionsGivenBack() throws Exception {
        try (Connection c = database.connect(); var statement = c.createStatement()) {
            Eventually.eventually(Duration.ofSeconds(10), () -> {
                try (var rows = statement.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        + "current_database() AND wait_event_type = 'Lock'")) {
                    rows.next();
                    return rows.getLong(1);
                } catch (java.sql.SQLException e) {
                    throw new IllegalStateException(e);
                }
            }, waiting -> waiting == 0);
        }
    }
}
