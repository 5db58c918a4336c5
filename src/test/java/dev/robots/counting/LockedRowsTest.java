package dev.robots.counting;

import static dev.robots.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.robots.LogCapture;
import dev.robots.RunningService;
import dev.robots.TestDatabase;
import dev.robots.config.Config;
import dev.robots.db.Database;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL: a robot row held locked by another transaction (a {@code SELECT ... FOR UPDATE} left open in psql, a
 * long write) delays the count of that robot only; the other robots of the same flush are written meanwhile. The
 * locked robot's count follows once the lock is gone, exactly. No wait of a flush is unbounded.
 */
class LockedRowsTest {
    private static final long N = 5;
    private static final Duration LONG = Duration.ofSeconds(20);

    private TestDatabase database;
    private Vertx vertx;
    private Database db;

    @BeforeEach
    void start() {
        database = TestDatabase.create("postgresql");
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stop() {
        if (db != null) {
            db.close().await();
        }
        vertx.close().await();
        database.close();
    }

    @Test
    void gets_of_a_robot_locked_elsewhere_are_counted_after_the_lock_and_the_others_meanwhile() throws Exception {
        try (var service = RunningService.start(database, Map.of("COUNT_FLUSH_MS", "50"))) {
            long locked = service.create("locked");
            long free = service.create("free");
            long other = service.create("other");
            try (var lock = lock("SELECT 1 FROM robots WHERE id = " + locked + " FOR UPDATE")) {
                for (int i = 0; i < N; i++) {
                    for (long id : List.of(locked, free, other)) {
                        assertThat(service.get("/v1/robots/" + id).statusCode()).isEqualTo(200);
                    }
                }

                // While the lock is held: the robots flushed beside the locked one have their counts.
                eventually(LONG, this::counts, counts -> counts.get(free) == N && counts.get(other) == N);
                assertThat(counts()).containsEntry(locked, 0L);
                assertThat(service.app().pendingReferences()).isEqualTo(N);
                lock.release();

                assertThat(service.flushedCount(locked)).isEqualTo(N);
            }
            assertThat(counts()).isEqualTo(Map.of(locked, N, free, N, other, N));
            // The robots' GETs see the counts the flushes announced.
            assertThat(eventually(LONG, () -> service.get("/v1/robots/" + locked).body(),
                    body -> body.contains("\"count\":" + N))).isNotNull();
        }
    }

    @Test
    void a_deleted_robot_is_dropped_and_a_locked_one_kept_for_a_later_flush() throws Exception {
        db = open(Map.of());
        long locked = robot("locked");
        long free = robot("free");
        long deleted = robot("deleted");
        var counter = new ReferenceCounter(0);
        record(counter, locked, free, deleted);
        sql("DELETE FROM robots WHERE id = " + deleted);
        var meters = new SimpleMeterRegistry();
        var reported = new LongLongMap();
        var flusher = new CountFlusher(vertx, db, counter, Duration.ofMillis(50), meters, reported::addAll);

        try (var lock = lock("SELECT 1 FROM robots WHERE id = " + locked + " FOR UPDATE")) {
            flusher.start();
            eventually(LONG, this::counts, counts -> counts.get(free) == N);
            // The deleted robot's references are gone; the locked robot's wait for its lock.
            eventually(LONG, flusher::pending, pending -> pending == N);
            assertThat(meters.get("robots.count.flush.skipped").counter().count()).isPositive();
            lock.release();
            eventually(LONG, flusher::pending, pending -> pending == 0);
        }
        flusher.stop(Duration.ofSeconds(5)).await();

        assertThat(counts()).isEqualTo(Map.of(locked, N, free, N));
        assertThat(reported.toMap()).isEqualTo(Map.of(locked, N, free, N));
    }

    @Test
    void a_final_flush_with_a_row_locked_past_its_deadline_fails_saying_what_it_did_not_write() throws Exception {
        db = open(Map.of());
        long locked = robot("locked");
        long free = robot("free");
        var counter = new ReferenceCounter(0);
        record(counter, locked, free);
        var flusher = new CountFlusher(vertx, db, counter, Duration.ofHours(1), new SimpleMeterRegistry(), c -> { });

        try (var lock = lock("SELECT 1 FROM robots WHERE id = " + locked + " FOR UPDATE")) {
            assertThatThrownBy(() -> flusher.stop(Duration.ofSeconds(1)).await())
                    .hasMessageContaining("%d references were not written to the database".formatted(N));
        }
        assertThat(counts()).isEqualTo(Map.of(locked, 0L, free, N));
    }

    @Test
    void a_final_flush_writes_everything_once_a_row_lock_ends_before_its_deadline() throws Exception {
        db = open(Map.of());
        long locked = robot("locked");
        long free = robot("free");
        var counter = new ReferenceCounter(0);
        record(counter, locked, free);
        var flusher = new CountFlusher(vertx, db, counter, Duration.ofHours(1), new SimpleMeterRegistry(), c -> { });

        try (var lock = lock("SELECT 1 FROM robots WHERE id = " + locked + " FOR UPDATE")) {
            var stopped = flusher.stop(Duration.ofSeconds(30));
            eventually(LONG, this::counts, counts -> counts.get(free) == N);
            assertThat(stopped.isComplete()).isFalse();
            lock.release();
            stopped.await();
        }
        assertThat(counts()).isEqualTo(Map.of(locked, N, free, N));
        assertThat(flusher.pending()).isZero();
    }

    @Test
    void a_chunk_that_waits_on_a_lock_fails_at_the_lock_timeout_and_is_retried_with_its_flush_id() throws Exception {
        // A socket timeout far away: the database's own lock timeout must end the wait.
        db = open(Map.of("DB_SOCKET_TIMEOUT_MS", "600000"));
        long first = robot("first");
        long second = robot("second");
        var counter = new ReferenceCounter(0);
        record(counter, first, second);
        var flusher = new CountFlusher(vertx, db, counter, Duration.ofMillis(50), new SimpleMeterRegistry(), c -> { });
        var failed = Pattern.compile("Flush (\\S+) of %d references to 2 robots failed".formatted(2 * N));

        try (var logs = new LogCapture()) {
            try (var lock = lock("LOCK TABLE robots IN EXCLUSIVE MODE")) {
                flusher.start();
                var warned = eventually(LONG, logs::lines, lines -> lines.stream().anyMatch(
                        line -> failed.matcher(line).find() && line.contains("lock timeout")));
                assertThat(counts()).isEqualTo(Map.of(first, 0L, second, 0L));
                lock.release();
                eventually(LONG, flusher::pending, pending -> pending == 0);
                assertThat(warned).isNotEmpty();
            }
            flusher.stop(Duration.ofSeconds(5)).await();
            var ids = logs.lines().stream().map(failed::matcher).filter(m -> m.find()).map(m -> m.group(1))
                    .distinct().toList();
            assertThat(ids).as("flush ids of the failed attempts").hasSize(1);
            assertThat(counts()).isEqualTo(Map.of(first, N, second, N));
            try (Connection c = database.connect(); var rows = c.createStatement().executeQuery(
                    "SELECT id FROM count_flushes")) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getString(1)).as("the one flush written, under the id it failed with")
                        .isEqualTo(ids.getFirst());
                assertThat(rows.next()).isFalse();
            }
        }
    }

    private Database open(Map<String, String> overrides) {
        var env = new HashMap<>(database.env());
        env.putAll(overrides);
        Database opened = Database.connect(vertx, Config.from(env));
        opened.migrate().await();
        return opened;
    }

    private static void record(ReferenceCounter counter, long... robots) {
        for (long robot : robots) {
            for (int i = 0; i < N; i++) {
                counter.record(robot);
            }
        }
    }

    private long robot(String name) throws SQLException {
        try (Connection c = database.connect(); var rows = c.createStatement().executeQuery(
                "INSERT INTO robots (name) VALUES ('" + name + "') RETURNING id")) {
            rows.next();
            return rows.getLong(1);
        }
    }

    private void sql(String statement) throws SQLException {
        try (Connection c = database.connect()) {
            c.createStatement().execute(statement);
        }
    }

    /** Every robot's count as committed; a plain read, which no row lock holds up. */
    private Map<Long, Long> counts() {
        try (Connection c = database.connect();
                var rows = c.createStatement().executeQuery("SELECT id, count FROM robots")) {
            var counts = new TreeMap<Long, Long>();
            while (rows.next()) {
                counts.put(rows.getLong(1), rows.getLong(2));
            }
            return counts;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code statement} in a transaction of another connection, which holds its locks until released. */
    private Lock lock(String statement) throws SQLException {
        Connection c = database.connect();
        c.setAutoCommit(false);
        c.createStatement().execute(statement);
        return new Lock(c);
    }

    private record Lock(Connection connection) implements AutoCloseable {
        void release() throws SQLException {
            if (!connection.isClosed()) {
                connection.rollback();
                connection.close();
            }
        }

        @Override
        public void close() throws SQLException {
            release();
        }
    }
}
