package dev.robots;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Waiting for what the service does a moment after its answer (a repair that runs after its 202, a flush). */
public final class Eventually {
    private Eventually() {
    }

    /** Reads until {@code done} holds or {@code limit} has passed, fails unless it holds, and answers the last read. */
    public static <T> T eventually(Duration limit, Supplier<T> read, Predicate<T> done) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        T value = read.get();
        while (!done.test(value) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            value = read.get();
        }
        assertThat(done.test(value)).as("condition met within %d s, last value %s", limit.toSeconds(), value).isTrue();
        return value;
    }
}
