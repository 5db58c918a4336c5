package dev.robots;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Concurrent GETs of robots over many keep-alive connections, tallying per robot what was sent and which answers
 * were 200. Bounded by a request count and by {@link #stop()}; used by the counting tests.
 */
public final class Load {
    private final Map<Long, LongAdder> sent = new ConcurrentHashMap<>();
    private final Map<Long, LongAdder> ok = new ConcurrentHashMap<>();
    private final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
    private final LongAdder failures = new LongAdder();
    private final AtomicBoolean stopped = new AtomicBoolean();
    /** Each request's X-Request-Id is this prefix and a number, so that the server's log can be matched with it. */
    private final AtomicLong sequence = new AtomicLong();
    private final java.util.Set<String> okRequestIds = ConcurrentHashMap.newKeySet();
    private final Map<Long, java.util.Set<String>> okRequestIdsByRobot = new ConcurrentHashMap<>();

    /**
     * Sends up to {@code requests} GETs of random robots among {@code ids}, {@code connections} at a time, each
     * connection to one of {@code bases} in turn; returns when all are answered or {@link #stop()} was called.
     */
    public Load run(List<URI> bases, List<Long> ids, int requests, int connections) throws InterruptedException {
        var remaining = new AtomicLong(requests);
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < connections; c++) {
                URI base = bases.get(c % bases.size());
                // One client per worker: one keep-alive connection each, as a load generator has.
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(2)).build();
                threads.submit(() -> {
                    try (client) {
                        while (!stopped.get() && remaining.getAndDecrement() > 0) {
                            long id = ids.get(ThreadLocalRandom.current().nextInt(ids.size()));
                            once(client, base, id);
                        }
                    }
                });
            }
        }
        return this;
    }

    private void once(HttpClient client, URI base, long id) {
        sent.computeIfAbsent(id, k -> new LongAdder()).increment();
        String requestId = "load-" + sequence.incrementAndGet();
        try {
            var response = client.send(HttpRequest.newBuilder(base.resolve("/v1/robots/" + id))
                    .header("X-Request-Id", requestId)
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            statuses.computeIfAbsent(response.statusCode(), k -> new LongAdder()).increment();
            if (response.statusCode() == 200) {
                ok.computeIfAbsent(id, k -> new LongAdder()).increment();
                okRequestIds.add(requestId);
                okRequestIdsByRobot.computeIfAbsent(id, k -> ConcurrentHashMap.newKeySet()).add(requestId);
            }
        } catch (java.io.IOException e) {
            failures.increment();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped.set(true);
        }
    }

    public void stop() {
        stopped.set(true);
    }

    /**
     * Stops the load when closed: declared after the executor in a try-with-resources, it is closed first, so a failed
     * assertion does not leave the executor waiting for a load that never ends.
     */
    public AutoCloseable stopper() {
        return this::stop;
    }

    public long sent(long id) {
        return value(sent, id);
    }

    public long ok(long id) {
        return value(ok, id);
    }

    public long ok() {
        return ok.values().stream().mapToLong(LongAdder::sum).sum();
    }

    public long status(int status) {
        var count = statuses.get(status);
        return count == null ? 0 : count.sum();
    }

    /** The X-Request-Id of every request answered 200 ({@code load-N}). */
    public java.util.Set<String> okRequestIds() {
        return okRequestIds;
    }

    /** The X-Request-Id of every request for robot {@code id} answered 200. */
    public java.util.Set<String> okRequestIds(long id) {
        return okRequestIdsByRobot.getOrDefault(id, java.util.Set.of());
    }

    /** Requests that got no HTTP answer at all (refused or reset connections). */
    public long failures() {
        return failures.sum();
    }

    private static long value(Map<Long, LongAdder> map, long id) {
        var count = map.get(id);
        return count == null ? 0 : count.sum();
    }

    @Override
    public String toString() {
        return "Load{statuses=%s, failures=%d}".formatted(statuses, failures.sum());
    }
}
