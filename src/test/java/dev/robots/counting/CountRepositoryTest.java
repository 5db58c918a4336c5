package dev.robots.counting;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.TestDatabase;
import dev.robots.config.Config;
import dev.robots.db.Database;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Flushes against real PostgreSQL: idempotent by flush id, and free of deadlocks between concurrent flushers. */
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

    @Test
    void a_flush_retried_with_the_same_id_is_applied_once() {
        Database db = open();
        long id = robots(db, 1).getFirst();
        var repository = new CountRepository(db.pool(), db.dialect());
        String flushId = UUID.randomUUID().toString();

        assertThat(repository.apply(flushId, Map.of(id, 5L)).await()).isTrue();
        assertThat(repository.apply(flushId, Map.of(id, 5L)).await()).isFalse();
        assertThat(counts(db)).containsEntry(id, 5L);
    }

    @Test
    void sums_for_deleted_robots_are_dropped_without_error() {
        Database db = open();
        long id = robots(db, 1).getFirst();
        var repository = new CountRepository(db.pool(), db.dialect());

        assertThat(repository.apply(UUID.randomUUID().toString(), Map.of(id, 2L, 999_999L, 3L)).await()).isTrue();
        assertThat(counts(db)).containsExactly(Map.entry(id, 2L));
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
            Future<?> chain = Future.succeededFuture();
            for (var batch : batches) {
                chain = chain.compose(v -> repository.apply(UUID.randomUUID().toString(), batch));
            }
            work.add(chain);
        }
        Future.all(work).await();

        assertThat(counts(first)).isEqualTo(expected);
    }
}
