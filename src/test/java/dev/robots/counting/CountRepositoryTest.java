package dev.robots.counting;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.TestDatabase;
import dev.robots.config.Config;
import dev.robots.db.Database;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Tuple;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Flushes against real PostgreSQL: idempotent by flush id, free of deadlocks between concurrent flushers, and never
 * waiting for a robot row another transaction holds.
 */
class CountRepositoryTest {
    private TestDatabase database;
    private Vertx vertx;
    private final List<Database> opened = new ArrayList<>();

    @BeforeEach
    void start() {
        database = TestDatabase.create("postgresql");
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stop() {
        opened.forEach(d -> d.close().await());
        vertx.close().await();
        database.close();
    }

    private Database open() {
        Database db = Database.connect(vertx, Config.from(database.env()));
        db.migrate().await();
        opened.add(db);
        return db;
    }

    private List<Long> robots(Database db, int n) {
        var ids = new ArrayList<Long>();
        for (int i = 0; i < n; i++) {
            ids.add(db.pool().preparedQuery("INSERT INTO robots (name) VALUES ($1) RETURNING id")
                    .execute(Tuple.of("r" + i)).await().iterator().next().getLong("id"));
        }
        return ids;
    }

    private Map<Long, Long> counts(Database db) {
        var counts = new HashMap<Long, Long>();
        db.pool().query("SELECT id, count FROM robots").execute().await()
                .forEach(row -> counts.put(row.getLong("id"), row.getLong("count")));
        return counts;
    }

    /** Applies {@code sums} as one chunk. */
    private static Future<CountRepository.Outcome> apply(CountRepository repository, String flushId,
            Map<Long, Long> sums) {
        long[] ids = sums.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
        long[] values = Arrays.stream(ids).map(sums::get).toArray();
        return repository.apply(flushId, ids, values, ids.length);
    }

    /** The sums of {@code sums} that {@code outcome} skipped, for a later chunk. */
    private static Map<Long, Long> skipped(CountRepository.Outcome outcome, Map<Long, Long> sums) {
        var skipped = new HashMap<Long, Long>();
        Arrays.stream(outcome.skipped()).forEach(id -> skipped.put(id, sums.get(id)));
        return skipped;
    }

    @Test
    void a_chunk_reports_the_new_counts_and_leaves_the_version_alone() {
        Database db = open();
        List<Long> ids = robots(db, 3);
        var repository = new CountRepository(db.pool(), db.dialect());
        long[] chunk = {ids.get(0), ids.get(2), 999_999L};

        var first = repository.apply(UUID.randomUUID().toString(), chunk, new long[] {4, 1, 7}, chunk.length).await();
        var second = repository.apply(UUID.randomUUID().toString(), chunk, new long[] {2, 2, 2}, chunk.length).await();

        assertThat(first.counts().toMap()).isEqualTo(Map.of(ids.get(0), 4L, ids.get(2), 1L));
        assertThat(second.counts().toMap()).isEqualTo(Map.of(ids.get(0), 6L, ids.get(2), 3L));
        assertThat(first.repeated()).isFalse();
        assertThat(first.skipped()).isEmpty();
        assertThat(db.pool().query("SELECT max(version) FROM robots").execute().await().iterator().next().getLong(0))
                .isZero();
    }

    @Test
    void a_flush_retried_with_the_same_id_is_applied_once() {
        Database db = open();
        long id = robots(db, 1).getFirst();
        var repository = new CountRepository(db.pool(), db.dialect());
        String flushId = UUID.randomUUID().toString();

        assertThat(apply(repository, flushId, Map.of(id, 5L)).await().repeated()).isFalse();
        var again = apply(repository, flushId, Map.of(id, 5L)).await();
        assertThat(again.repeated()).isTrue();
        assertThat(again.counts().isEmpty()).isTrue();
        assertThat(again.skipped()).isEmpty();
        assertThat(counts(db)).containsEntry(id, 5L);
    }

    @Test
    void sums_for_deleted_robots_are_dropped_without_error() {
        Database db = open();
        long id = robots(db, 1).getFirst();
        var repository = new CountRepository(db.pool(), db.dialect());

        var outcome = apply(repository, UUID.randomUUID().toString(), Map.of(id, 2L, 999_999L, 3L)).await();
        assertThat(outcome.skipped()).as("a deleted robot is not skipped, to be tried again").isEmpty();
        assertThat(counts(db)).containsExactly(Map.entry(id, 2L));
    }

    @Test
    void a_row_locked_elsewhere_is_skipped_and_a_retry_of_that_flush_reports_it_skipped_again() throws Exception {
        Database db = open();
        List<Long> ids = robots(db, 3);
        long locked = ids.get(1);
        var repository = new CountRepository(db.pool(), db.dialect());
        String flushId = UUID.randomUUID().toString();
        var sums = Map.of(ids.get(0), 1L, locked, 2L, ids.get(2), 3L, 999_999L, 4L);

        CountRepository.Outcome outcome;
        CountRepository.Outcome retried;
        try (Connection holder = database.connect()) {
            holder.setAutoCommit(false);
            holder.createStatement().execute("SELECT 1 FROM robots WHERE id = " + locked + " FOR UPDATE");
            // Its first attempt committed, but its answer was lost: the retry finds the flush applied.
            outcome = apply(repository, flushId, sums).await(30, TimeUnit.SECONDS);
            retried = apply(repository, flushId, sums).await(30, TimeUnit.SECONDS);
            holder.rollback();
        }

        assertThat(outcome.repeated()).isFalse();
        assertThat(outcome.counts().toMap()).isEqualTo(Map.of(ids.get(0), 1L, ids.get(2), 3L));
        assertThat(outcome.skipped()).containsExactly(locked);
        assertThat(retried.repeated()).isTrue();
        assertThat(retried.skipped()).containsExactly(locked);
        assertThat(apply(repository, UUID.randomUUID().toString(), skipped(outcome, sums)).await().counts().toMap())
                .isEqualTo(Map.of(locked, 2L));
        assertThat(counts(db)).isEqualTo(Map.of(ids.get(0), 1L, locked, 2L, ids.get(2), 3L));
    }

    @Test
    void concurrent_flushers_on_one_database_never_deadlock_and_lose_nothing() {
        int flushers = 4;
        int rounds = 150;
        Database first = open();
        List<Long> ids = robots(first, 20);
        var repositories = new ArrayList<CountRepository>();
        repositories.add(new CountRepository(first.pool(), first.dialect()));
        for (int i = 1; i < flushers; i++) {
            Database another = open();
            repositories.add(new CountRepository(another.pool(), another.dialect()));
        }

        var expected = new HashMap<Long, Long>();
        var work = new ArrayList<Future<?>>();
        var random = new Random(42);
        for (var repository : repositories) {
            // Each flusher loops over batches touching most robots, handed over in a shuffled order.
            var batches = new ArrayList<Map<Long, Long>>();
            for (int round = 0; round < rounds; round++) {
                var shuffled = new ArrayList<>(ids);
                Collections.shuffle(shuffled, random);
                var batch = new HashMap<Long, Long>();
                shuffled.subList(0, 15).forEach(id -> batch.put(id, 1L + random.nextInt(3)));
                batch.forEach((id, n) -> expected.merge(id, n, Long::sum));
                batches.add(batch);
            }
            // As the flusher does, the sums of robots another flusher held locked go with its next batch.
            Future<Map<Long, Long>> chain = Future.succeededFuture(Map.of());
            for (var batch : batches) {
                chain = chain.compose(carried -> {
                    var sums = new HashMap<>(batch);
                    carried.forEach((id, n) -> sums.merge(id, n, Long::sum));
                    return apply(repository, UUID.randomUUID().toString(), sums)
                            .map(outcome -> skipped(outcome, sums));
                });
            }
            work.add(chain.compose(carried -> drain(repository, carried)));
        }
        Future.all(work).await();

        assertThat(counts(first)).isEqualTo(expected);
    }

    private static Future<Void> drain(CountRepository repository, Map<Long, Long> sums) {
        if (sums.isEmpty()) {
            return Future.succeededFuture();
        }
        return apply(repository, UUID.randomUUID().toString(), sums)
                .compose(outcome -> drain(repository, skipped(outcome, sums)));
    }
}
