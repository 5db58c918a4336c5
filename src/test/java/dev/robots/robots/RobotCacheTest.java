package dev.robots.robots;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The rules that keep cached answers coherent, one interleaving at a time (see the class comment). */
class RobotCacheTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final RobotCache cache = new RobotCache(100, 5_000, true, now::get);

    private static byte[] body(String name) {
        return name.getBytes(StandardCharsets.UTF_8);
    }

    private String get(long id) {
        byte[] body = cache.get(id);
        return body == null ? null : new String(body, StandardCharsets.UTF_8);
    }

    @Test
    void an_answer_is_kept_and_served() {
        cache.found(1, 0, body("v0"), cache.stamp());
        assertThat(get(1)).isEqualTo("v0");
        assertThat(get(2)).isNull();
    }

    @Test
    void a_load_that_overlaps_a_change_is_not_kept() {
        long stamp = cache.stamp();
        cache.invalidate(1); // the change was heard while the load was out
        cache.found(1, 0, body("v0"), stamp);
        assertThat(get(1)).isNull();
    }

    @Test
    void a_change_removes_the_entry() {
        cache.found(1, 0, body("v0"), cache.stamp());
        cache.found(2, 0, body("other"), cache.stamp());
        cache.invalidate(List.of(1L));
        assertThat(get(1)).isNull();
        assertThat(get(2)).isEqualTo("other");
    }

    @Test
    void an_older_load_that_ends_after_a_newer_answer_is_not_kept() {
        // Two loads out at once, before the change is heard: the newer answer went out first.
        long stamp = cache.stamp();
        cache.found(1, 17, body("v17"), stamp);
        cache.found(1, 14, body("v14"), stamp);
        assertThat(get(1)).isEqualTo("v17");
    }

    @Test
    void an_entry_older_than_an_answer_already_given_is_not_served() {
        cache.found(1, 14, body("v14"), cache.stamp());
        long stamp = cache.stamp();
        cache.invalidate(2); // another robot's change: the newer load below is not kept...
        cache.found(1, 17, body("v17"), stamp);
        assertThat(get(1)).as("...and v14 must not be served after v17 was").isNull();
    }

    @Test
    void a_robot_found_deleted_is_not_served_from_an_older_load() {
        long stamp = cache.stamp();
        cache.missing(1);
        cache.found(1, 3, body("v3"), stamp);
        assertThat(get(1)).isNull();
    }

    @Test
    void a_robot_asked_for_before_it_existed_is_cached_once_created() {
        cache.missing(7);
        cache.created(7);
        cache.found(7, 0, body("new"), cache.stamp());
        assertThat(get(7)).isEqualTo("new");
    }

    @Test
    void entries_expire() {
        cache.found(1, 0, body("v0"), cache.stamp());
        now.addAndGet(4_999);
        assertThat(get(1)).isEqualTo("v0");
        now.addAndGet(1);
        assertThat(get(1)).isNull();
    }

    @Test
    void while_off_nothing_is_kept_and_it_comes_back_empty() {
        cache.found(1, 0, body("v0"), cache.stamp());
        long stamp = cache.stamp();
        cache.disable();
        assertThat(get(1)).isNull();
        cache.found(2, 0, body("other"), cache.stamp());
        assertThat(get(2)).isNull();

        cache.enable();
        cache.found(1, 0, body("v0"), stamp); // out since before the cache went off
        assertThat(get(1)).isNull();
        cache.found(1, 0, body("v0"), cache.stamp());
        assertThat(get(1)).isEqualTo("v0");
    }

    @Test
    void it_stays_within_its_size() {
        var small = new RobotCache(3, 5_000, true, now::get);
        for (long id = 1; id <= 50; id++) {
            small.found(id, 0, body("r" + id), small.stamp());
            small.missing(1_000 + id);
            assertThat(small.size()).isLessThanOrEqualTo(3);
        }
    }
}
