package dev.robots.counting;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.TestDatabase;
import dev.robots.config.Config;
import dev.robots.db.Database;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A flush of many distinct robots goes out in bounded chunks, each its own transaction, and loses nothing. */
class LargeFlushTest {
    private static final int ROBOTS = 200_000;

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgresql"})
    void a_flush_of_200000_distinct_robots_is_chunked_and_exact(String kind) {
        Vertx vertx = Vertx.vertx();
        try (var database = TestDatabase.create(kind)) {
            Database db = Database.connect(vertx, Config.from(database.env()));
            db.migrate().await();
            db.pool().query("INSERT INTO robots (name) SELECT 'r' || g FROM "
                    + (kind.equals("h2") ? "SYSTEM_RANGE(1, %d) AS t(g)" : "generate_series(1, %d) AS g")
                            .formatted(ROBOTS)).execute().await();
            var counter = new ReferenceCounter(0);
            long expected = 0;
            for (long id = 1; id <= ROBOTS; id++) {
                int references = id % 7 == 0 ? 3 : 1;
                for (int i = 0; i < references; i++) {
                    counter.record(id);
                }
                expected += references;
            }
            counter.record(ROBOTS + 1); // a robot that does not exist: dropped
            var meters = new SimpleMeterRegistry();
            var reported = new LongLongMap();
            var flusher = new CountFlusher(vertx, db, counter, Duration.ofHours(1), meters, reported::addAll);
            assertThat(flusher.memoryBytes()).isPositive();

            flusher.stop(Duration.ofSeconds(60)).await(); // writes everything recorded

            var row = db.pool().query("SELECT (SELECT count(*) FROM count_flushes), sum(count), "
                    + "sum(CASE WHEN count = CASE WHEN MOD(id, 7) = 0 THEN 3 ELSE 1 END THEN 0 ELSE 1 END) "
                    + "FROM robots").execute().await().iterator().next();
            int chunks = (ROBOTS + 1 + CountFlusher.CHUNK - 1) / CountFlusher.CHUNK;
            assertThat(row.getLong(0)).as("transactions (count_flushes rows)").isEqualTo(chunks);
            assertThat(row.getLong(1)).as("sum of counts").isEqualTo(expected);
            assertThat(row.getLong(2)).as("robots with a wrong count").isZero();
            assertThat(meters.get("robots.count.flush").timer().count()).isEqualTo(chunks);
            assertThat(reported.size()).as("robots whose new count was reported").isEqualTo(ROBOTS);
            assertThat(reported.get(7)).isEqualTo(3);
            assertThat(flusher.pending()).isZero();
            // Nothing pending; the two maps this flush filled (the counter's slot and the flusher's) stay, emptied,
            // for the next ones, each sized for what it held (16 bytes per slot, load at most 1/2).
            assertThat(flusher.memoryBytes()).as("the emptied maps kept for reuse")
                    .isLessThanOrEqualTo(2 * 16L * 4 * ROBOTS);
            db.close().await();
        } finally {
            vertx.close().await();
        }
    }
}
