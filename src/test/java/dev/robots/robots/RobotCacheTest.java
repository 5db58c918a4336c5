package dev.robots.robots;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

/** The rules that keep cached robots coherent and the popular ones kept (see the class comment). */
class RobotCacheTest {
    private final AtomicLong nanos = new AtomicLong();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final RobotCache cache = new RobotCache(1 << 20, Duration.ofSeconds(5), true, meters, nanos::get);

    private static Robot robot(long id, long version, long count) {
        return new Robot(id, "r" + id + "v" + version, count, Instant.EPOCH, 0, null, version);
    }

    private static Future<Optional<Robot>> found(Robot robot) {
        return Future.succeededFuture(Optional.of(robot));
    }

    private Optional<RobotCache.Entry> load(long id, Robot robot) {
        return cache.load(id, () -> found(robot)).await();
    }

    @Test
    void an_entry_answers_the_bytes_the_robot_s_json_would() {
        for (String name : new String[] {"Robo", "quote\" back\\slash", "tab\tnew\nline\u0001", "ロボ 🤖", "</script>"}) {
            for (Instant repairedAt : new Instant[] {null, Instant.parse("2026-12-01T08:00:00.123Z")}) {
                var robot = new Robot(42, name, 7, Instant.parse("2026-11-30T23:59:59.5Z"), 3, repairedAt, 9);
                JsonObject expected = new JsonObject().put("message", "Robot is " + name + ".")
                        .mergeIn(robot.toJson().put("count", 12345L));
                String body = RobotCache.Entry.of(robot).body(12345).toString();
                // The bytes every other answer of the robot has (toBuffer, as the routes send): Jackson's UTF-8
                // generator escapes a character outside the BMP, where encode() to a String leaves it be.
                assertThat(body).isEqualTo(expected.toBuffer().toString());
                assertThat(new JsonObject(body).fieldNames()).containsExactly(
                        "message", "id", "name", "count", "created_at", "repairs", "repaired_at");
            }
        }
    }

    @Test
    void a_loaded_robot_is_kept_and_served_with_its_body() {
        assertThat(cache.get(1)).isNull();
        load(1, robot(1, 3, 1502));
        var entry = cache.get(1);
        assertThat(entry.version()).isEqualTo(3);
        assertThat(entry.body(entry.count()).toJsonObject().getMap()).containsEntry("message", "Robot is r1v3.")
                .containsEntry("id", 1).containsEntry("count", 1502).containsEntry("repaired_at", null);
        assertThat(meters.get("robots.cache.requests").tag("result", "hit").counter().count()).isEqualTo(1);
        assertThat(meters.get("robots.cache.requests").tag("result", "miss").counter().count()).isEqualTo(1);
    }

    @Test
    void one_query_per_robot_in_flight() {
        var queries = new AtomicInteger();
        Promise<Optional<Robot>> answer = Promise.promise();
        var loads = new ArrayList<Future<Optional<RobotCache.Entry>>>();
        for (int i = 0; i < 5; i++) {
            loads.add(cache.load(1, () -> {
                queries.incrementAndGet();
                return answer.future();
            }));
        }
        answer.complete(Optional.of(robot(1, 0, 0)));
        Future.all(loads).await();
        assertThat(queries).hasValue(1);
        assertThat(cache.contains(1)).isTrue();
    }

    @Test
    void a_load_that_overlaps_a_change_of_its_robot_is_not_kept_nor_joined_after_it() {
        Promise<Optional<Robot>> old = Promise.promise();
        Promise<Optional<Robot>> other = Promise.promise();
        var first = cache.load(1, old::future);
        var another = cache.load(2, other::future);
        cache.invalidate(1); // the change was heard while the loads were out
        // A request after the change starts a load of its own, which reads the change.
        var after = cache.load(1, () -> found(robot(1, 1, 0)));
        old.complete(Optional.of(robot(1, 0, 0)));
        other.complete(Optional.of(robot(2, 0, 0)));

        assertThat(first.await().orElseThrow().version()).isZero();
        assertThat(after.await().orElseThrow().version()).isEqualTo(1);
        assertThat(another.await()).isPresent();
        assertThat(cache.get(1).version()).isEqualTo(1);
        assertThat(cache.get(2)).as("per key: a change to robot 1 does not drop robot 2's load").isNotNull();
    }

    @Test
    void an_overtaken_load_that_read_a_newer_version_is_never_followed_by_an_older_one() {
        for (boolean overtakenAnswersFirst : new boolean[] {true, false}) {
            long id = overtakenAnswersFirst ? 1 : 2;
            Promise<Optional<Robot>> overtaken = Promise.promise();
            Promise<Optional<Robot>> replacing = Promise.promise();
            var early = cache.load(id, overtaken::future);
            cache.invalidate(id); // change to v1 heard
            var late = cache.load(id, replacing::future);
            // The queries ran on different connections: the replacing one read v1, then a change to v2 committed (not
            // yet heard) before the overtaken one read.
            if (overtakenAnswersFirst) {
                overtaken.complete(Optional.of(robot(id, 2, 0)));
                replacing.complete(Optional.of(robot(id, 1, 0)));
            } else {
                replacing.complete(Optional.of(robot(id, 1, 0)));
                overtaken.complete(Optional.of(robot(id, 2, 0)));
            }

            assertThat(early.await().orElseThrow().version()).isEqualTo(2);
            assertThat(late.await().orElseThrow().version()).isEqualTo(1);
            RobotCache.Entry next = cache.get(id);
            assertThat(next == null ? null : next.version())
                    .as("after v2 was served, v1 from the cache (overtaken load answered first: %s)", overtakenAnswersFirst)
                    .isNull();
        }
    }

    @Test
    void counts_move_the_cached_robot_without_dropping_it_and_never_go_back() {
        load(1, robot(1, 4, 10));
        cache.counted(1, 15);
        cache.counted(1, 12); // an older report, arriving late
        assertThat(cache.get(1).count()).isEqualTo(15);
        assertThat(cache.get(1).version()).isEqualTo(4);

        // A count reported while the load is out is applied to what the load brings back.
        Promise<Optional<Robot>> answer = Promise.promise();
        var loading = cache.load(2, answer::future);
        cache.counted(2, 7);
        answer.complete(Optional.of(robot(2, 0, 5)));
        loading.await();
        assertThat(cache.get(2).count()).isEqualTo(7);
    }

    @Test
    void missing_robots_are_not_kept_and_a_flood_of_404s_evicts_nothing() {
        var small = new RobotCache(64 * 1024, Duration.ofSeconds(5), true, meters, nanos::get);
        for (long id = 1; id <= 50; id++) {
            long robot = id;
            small.load(robot, () -> found(robot(robot, 0, 0))).await();
        }
        for (int i = 0; i < 20_000; i++) {
            long id = 1_000_000 + i;
            assertThat(small.get(id)).isNull();
            assertThat(small.load(id, () -> Future.succeededFuture(Optional.empty())).await()).isEmpty();
        }
        for (long id = 1; id <= 50; id++) {
            assertThat(small.contains(id)).as("popular robot %d", id).isTrue();
        }
    }

    @Test
    void robots_read_once_do_not_push_out_the_popular_ones() {
        // Room for ~200 robots; 50 popular ones are read all along, between 20,000 others read once each.
        var small = new RobotCache(200 * 250, Duration.ofSeconds(5), true, meters, nanos::get);
        java.util.function.LongConsumer read = id -> {
            if (small.get(id) == null) {
                small.load(id, () -> found(robot(id, 0, 0))).await();
            }
        };
        for (long id = 100_000; id < 120_000; id++) {
            read.accept(1 + id % 50);
            read.accept(id);
        }
        long kept = java.util.stream.LongStream.rangeClosed(1, 50).filter(small::contains).count();
        assertThat(kept).as("popular robots still cached").isGreaterThanOrEqualTo(45);
    }

    @Test
    void once_full_a_robot_is_kept_on_its_third_miss_not_its_first_or_second() {
        // Room for ~20,000 robots (Caffeine's admission window, 1 % of it, holds the newest ~200 whatever their
        // frequency): a robot is kept on its first miss until an entry had to go to make room.
        var big = new RobotCache(20_000 * 250, Duration.ofSeconds(5), true, meters, nanos::get);
        big.load(1, () -> found(robot(1, 0, 0))).await();
        assertThat(big.contains(1)).as("kept on its first miss while there is room").isTrue();
        for (long id = 100_000; id < 140_000; id++) {
            long robot = id;
            big.load(robot, () -> found(robot(robot, 0, 0))).await();
        }
        int[] kept = new int[3];
        for (long id = 200_000; id < 200_100; id++) {
            long robot = id;
            for (int miss = 0; miss < 3; miss++) {
                big.load(robot, () -> found(robot(robot, 0, 0))).await();
                kept[miss] += big.contains(robot) ? 1 : 0;
            }
        }
        assertThat(kept[0] + kept[1]).as("robots kept on their first or second miss once full (false positives)")
                .isLessThan(5);
        assertThat(kept[2]).as("robots kept on their third miss").isGreaterThan(95);
    }

    @Test
    void the_doorkeeper_admits_a_robot_missed_twice_within_one_window_until_it_forgets_repeats() {
        var doorkeeper = new RobotCache.Doorkeeper(1_000); // a window: 1,000 distinct robots missed
        assertThat(doorkeeper.admits(7)).isFalse();
        assertThat(doorkeeper.admits(7)).as("its second miss: now a repeat").isFalse();
        assertThat(doorkeeper.admits(7)).as("missed again after a repeat").isTrue();

        assertThat(doorkeeper.admits(8)).isFalse();
        long other = 1_000_000;
        for (int i = 0; i < 1_000; i++) {
            doorkeeper.admits(other++); // a window passes
        }
        assertThat(doorkeeper.admits(8)).as("once per window is not a repeat").isFalse();
        assertThat(doorkeeper.admits(8)).isFalse();
        assertThat(doorkeeper.admits(8)).as("twice within this window is").isTrue();

        for (int i = 0; i < RobotCache.Doorkeeper.WINDOWS_REMEMBERED * 1_000; i++) {
            doorkeeper.admits(other++);
        }
        assertThat(doorkeeper.admits(7)).as("repeats are forgotten every %d windows",
                RobotCache.Doorkeeper.WINDOWS_REMEMBERED).isFalse();
    }

    @Test
    void the_doorkeeper_lets_few_misses_of_a_key_space_far_larger_than_the_cache_in() {
        // 1M robots read uniformly through a cache of 50,000, as in bench/scale.py's uniform workload: nearly every
        // entry kept would be evicted unread. The earlier one-window filter let 5.5 % of such misses in.
        var doorkeeper = new RobotCache.Doorkeeper(50_000);
        var random = new java.util.SplittableRandom(11);
        int admitted = 0;
        int misses = 2_000_000;
        for (int i = 0; i < misses; i++) {
            admitted += doorkeeper.admits(1 + random.nextLong(1_000_000)) ? 1 : 0;
        }
        assertThat(admitted).as("misses let in").isLessThan(misses / 50);
    }

    @Test
    void entries_expire_after_the_ttl() {
        load(1, robot(1, 0, 0));
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(5));
        assertThat(cache.get(1)).isNull();
    }

    @Test
    void off_means_empty_and_nothing_kept_until_on_again() {
        load(1, robot(1, 0, 0));
        cache.disable();
        assertThat(cache.get(1)).isNull();
        load(1, robot(1, 0, 0));
        assertThat(cache.get(1)).isNull();
        cache.enable();
        load(1, robot(1, 0, 0));
        assertThat(cache.get(1)).isNotNull();
    }

    /**
     * Writers change robots (the database's version moves, then the change is heard: invalidate) while readers read
     * through the cache, with loads that read the database at a random moment. Per robot, no reader ever sees a
     * version older than one it saw before, and a writer reading its own robot after its change sees the change.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void never_an_older_version_under_concurrent_loads_and_invalidations_per_key() throws Exception {
        int robots = 4;
        var versions = new AtomicLongArray(robots + 1);
        var problems = new ConcurrentLinkedQueue<String>();
        var stop = new AtomicBoolean();
        var database = Executors.newFixedThreadPool(4);
        var realCache = new RobotCache(1 << 20, Duration.ofSeconds(5), true, meters, Ticker.systemTicker());
        // Platform threads: readers that hit the cache never block, and would starve virtual threads of carriers.
        try (var threads = Executors.newCachedThreadPool()) {
            var readers = new ArrayList<java.util.concurrent.Future<?>>();
            var writers = new ArrayList<java.util.concurrent.Future<?>>();
            java.util.function.LongFunction<Future<Optional<Robot>>> query = id -> {
                Promise<Optional<Robot>> promise = Promise.promise();
                database.execute(() -> {
                    spin();
                    long version = versions.get((int) id);
                    spin();
                    promise.complete(Optional.of(robot(id, version, 0)));
                });
                return promise.future();
            };
            java.util.function.LongUnaryOperator read = id -> {
                var entry = realCache.get(id);
                if (entry == null) {
                    entry = realCache.load(id, () -> query.apply(id)).await().orElseThrow();
                }
                return entry.version();
            };
            for (int r = 0; r < 4; r++) {
                readers.add(threads.submit(() -> {
                    long[] seen = new long[robots + 1];
                    while (!stop.get()) {
                        int id = 1 + ThreadLocalRandom.current().nextInt(robots);
                        long version = read.applyAsLong(id);
                        if (version < seen[id]) {
                            problems.add("robot %d: v%d after v%d".formatted(id, version, seen[id]));
                        }
                        seen[id] = version;
                    }
                }));
            }
            // Two writers per robot, as with several instances: a load overtaken by one change can then read a
            // version newer than the load that replaced it, which must not be followed by that older one.
            for (int w = 1; w <= 2 * robots; w++) {
                int id = 1 + w % robots;
                writers.add(threads.submit(() -> {
                    for (int change = 0; change < 200; change++) {
                        long committed = versions.incrementAndGet(id);
                        spin();
                        realCache.invalidate(id);
                        long after = read.applyAsLong(id);
                        if (after < committed) {
                            problems.add("robot %d: v%d read after its change to v%d".formatted(id, after, committed));
                        }
                    }
                }));
            }
            try {
                for (var writer : writers) {
                    writer.get(60, TimeUnit.SECONDS);
                }
            } finally {
                stop.set(true);
            }
            for (var reader : readers) {
                reader.get(60, TimeUnit.SECONDS);
            }
        } finally {
            database.shutdownNow();
        }
        assertThat(problems).isEmpty();
    }

    private static void spin() {
        long until = System.nanoTime() + ThreadLocalRandom.current().nextLong(50_000);
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }
}
