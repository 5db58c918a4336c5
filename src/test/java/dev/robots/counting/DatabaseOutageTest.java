package dev.robots.counting;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.Load;
import dev.robots.RunningService;
import dev.robots.TcpProxy;
import dev.robots.TestDatabase;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * PostgreSQL fails for a few seconds under load, then comes back: it goes down (connections closed, new ones
 * refused), or it stops answering (connections stay open and swallow every byte, for ever).
 */
class DatabaseOutageTest {
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(DatabaseOutageTest.class
            .getName());

    enum Fault {
        DOWN(TcpProxy::cut),
        SILENT(TcpProxy::blackhole);

        final Consumer<TcpProxy> start;

        Fault(Consumer<TcpProxy> start) {
            this.start = start;
        }
    }

    @ParameterizedTest
    @EnumSource(Fault.class)
    void requests_get_fast_503s_and_afterwards_service_resumes_with_every_200_counted_once(Fault fault)
            throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var proxy = new TcpProxy(URI.create(TestDatabase.ADMIN_URL).getPort())) {
            String viaProxy = database.url().replaceFirst(":\\d+/", ":" + proxy.port() + "/");
            try (var served = new ServedReads();
                    var service = RunningService.start(database,
                    Map.of("DATABASE_URL", viaProxy, "COUNT_FLUSH_MS", "200", "ACCESS_LOG", "true"))) {
                var ids = new ArrayList<Long>();
                for (int i = 0; i < 5; i++) {
                    ids.add(service.create("outage-" + i));
                }
                // Never read before the fault, so not in the read cache: its GET needs the database.
                long probe = service.create("probe");

                var load = new Load();
                try (var background = Executors.newVirtualThreadPerTaskExecutor(); var stopper = load.stopper()) {
                    var running = background.submit(() -> load.run(List.of(service.uri("/")), ids, 1_000_000, 16));
                    Thread.sleep(1_000);
                    long okBeforeFault = load.ok();

                    fault.start.accept(proxy);
                    Thread.sleep(300);
                    long started = System.nanoTime();
                    var during = service.get("/v1/robots/" + probe);
                    long millis = (System.nanoTime() - started) / 1_000_000;
                    assertThat(during.statusCode()).isEqualTo(503);
                    assertThat(during.headers().firstValue("Retry-After")).isPresent();
                    assertThat(millis).as("time to a 503").isLessThan(2_000);
                    started = System.nanoTime();
                    assertThat(service.get("/readyz").statusCode()).isEqualTo(503);
                    assertThat((System.nanoTime() - started) / 1_000_000).as("time to not ready").isLessThan(2_000);
                    Thread.sleep(3_000);
                    // Cached robots may be served a moment into the fault, not for its length.
                    assertThat(service.app().cache().enabled()).as("read cache on during the fault").isFalse();
                    assertThat(service.get("/v1/robots/" + ids.getFirst()).statusCode()).isEqualTo(503);

                    proxy.restore();
                    long okAtRestore = load.ok();
                    long deadline = System.nanoTime() + 20_000_000_000L;
                    while (service.get("/readyz").statusCode() != 200 && System.nanoTime() < deadline) {
                        Thread.sleep(100);
                    }
                    assertThat(service.get("/readyz").statusCode()).as("ready again on its own").isEqualTo(200);
                    // Readiness asks the background pool; a request pool's connections stuck in the fault come back
                    // within DB_SOCKET_TIMEOUT_MS, so wait for the load's 200s rather than a fixed while.
                    while (load.ok() <= okAtRestore && System.nanoTime() < deadline) {
                        Thread.sleep(100);
                    }
                    Thread.sleep(1_000);
                    load.stop();
                    running.get();
                    assertThat(okBeforeFault).isPositive();
                    assertThat(load.ok()).as("200s after the database came back").isGreaterThan(okAtRestore);
                    assertThat(load.status(503)).isPositive();
                    assertThat(load.status(500)).isZero();
                    // Every 503 of the load and of the two GETs above is counted with its cause (readiness's own 503
                    // is no rejection); a cut database is no overload.
                    String metrics = service.scrape();
                    assertThat(rejections(metrics, "database") + rejections(metrics, "timeout"))
                            .isGreaterThanOrEqualTo(load.status(503) + 2);
                    assertThat(rejections(metrics, "overload")).isZero();
                }
                // Every connection of the request pools answers again, not only some of them: 50 reads in a row
                // answered 200. A connection stuck in the fault that the load did not happen to use may still be
                // waiting out DB_SOCKET_TIMEOUT_MS (5 s); a read that reaches it then is a 503, never a 500, and the
                // streak starts again. CI once met one (a 503 among the 50 reads, 12 s into the run).
                long streakDeadline = System.nanoTime() + 15_000_000_000L;
                int streak = 0;
                var answered = new java.util.HashMap<Long, Long>(); // the 200s of these reads, per robot
                for (int i = 0; streak < 50 && System.nanoTime() < streakDeadline; i++) {
                    long id = ids.get(i % ids.size());
                    int status = service.get("/v1/robots/" + id).statusCode();
                    assertThat(status).as("a read after the database came back").isIn(200, 503);
                    streak = status == 200 ? streak + 1 : 0;
                    if (status == 200) {
                        answered.merge(id, 1L, Long::sum);
                    }
                }
                assertThat(streak).as("reads answered 200 in a row").isEqualTo(50);

                service.awaitFlushed();
                for (long id : ids) {
                    // Counted once for every 200 the server wrote (its access log, written at the same moment as the
                    // count is taken), none lost, none doubled; and every 200 the client read is one of them. The
                    // client's own tally was the measure before, and CI met a robot counted twice more than it: two
                    // request ids each answered 200 twice, the JDK client having sent the GET again on a new
                    // connection when the first answer did not arrive (it re-sends an idempotent request whose pooled
                    // connection closes before any answer). The server wrote and counted both. Why the first answer
                    // did not arrive is not known yet (session 16's note): it is logged as a warning here.
                    long other = answered.getOrDefault(id, 0L);
                    String what = "robot %d (load: %d sent to it, %d without an HTTP answer in all, statuses 200=%d "
                            .formatted(id, load.sent(id), load.failures(), load.status(200))
                            + "503=%d); %s".formatted(load.status(503), served.against(id, load.okRequestIds(), other));
                    assertThat(service.flushedCount(id)).as(what).isEqualTo(served.count(id));
                    assertThat(served.loadIds(id)).as(what).containsAll(load.okRequestIds(id));
                    if (!served.twice(id).isEmpty()) {
                        LOG.warning(() -> "Answers written and never read, their requests sent again: " + what);
                    }
                }
            }
        }
    }

    /**
     * The 200s of robot reads as the server's access log tells them, by robot and request id, kept rather than
     * printed while open (the load would write tens of thousands of lines).
     */
    private static final class ServedReads extends java.util.logging.Handler implements AutoCloseable {
        private static final java.util.regex.Pattern READ =
                java.util.regex.Pattern.compile("GET /v1/robots/(\\d+) 200 .* (\\S+)");
        private final java.util.logging.Logger access = java.util.logging.Logger.getLogger("access");
        private final Map<Long, java.util.Queue<String>> served = new java.util.concurrent.ConcurrentHashMap<>();

        ServedReads() {
            access.setUseParentHandlers(false);
            access.addHandler(this);
        }

        @Override
        public void publish(java.util.logging.LogRecord record) {
            var read = READ.matcher(String.valueOf(record.getMessage()));
            if (read.matches()) {
                served.computeIfAbsent(Long.parseLong(read.group(1)),
                        k -> new java.util.concurrent.ConcurrentLinkedQueue<>()).add(read.group(2));
            }
        }

        private List<String> ids(long id) {
            return List.copyOf(served.getOrDefault(id, new java.util.concurrent.ConcurrentLinkedQueue<>()));
        }

        /** The 200s the server wrote for robot {@code id}. */
        long count(long id) {
            return ids(id).size();
        }

        /** The load's request ids the server answered 200 for robot {@code id}. */
        java.util.Set<String> loadIds(long id) {
            var load = new java.util.HashSet<String>();
            ids(id).stream().filter(r -> r.startsWith("load-")).forEach(load::add);
            return load;
        }

        /** The load's request ids answered 200 twice for robot {@code id}. */
        List<String> twice(long id) {
            var once = new java.util.HashSet<String>();
            return ids(id).stream().filter(r -> r.startsWith("load-") && !once.add(r)).distinct().toList();
        }

        /** What the server answered 200 for robot {@code id} and the client did not read as a 200, for a message. */
        String against(long id, java.util.Set<String> clientOk, long otherReads) {
            var ids = List.copyOf(served.getOrDefault(id, new java.util.concurrent.ConcurrentLinkedQueue<>()));
            var unseen = ids.stream().filter(r -> r.startsWith("load-") && !clientOk.contains(r)).toList();
            var once = new java.util.HashSet<String>();
            var twice = ids.stream().filter(r -> r.startsWith("load-") && !once.add(r)).distinct().toList();
            long others = ids.stream().filter(r -> !r.startsWith("load-")).count();
            // A read without a request id of its own (the reads after the load) ends its line with the address.
            return "server logged %d 200s (%d of the load's, %d others against %d such reads); load ids served 200 the "
                    .formatted(ids.size(), ids.size() - others, others, otherReads)
                    + "client did not read as 200: %s; ids served twice: %s".formatted(
                            unseen.subList(0, Math.min(10, unseen.size())), twice.subList(0, Math.min(10, twice.size())));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            access.removeHandler(this);
            access.setUseParentHandlers(true);
        }
    }

    private static double rejections(String metrics, String cause) {
        return metrics.lines()
                .filter(line -> line.startsWith("robots_http_rejections_total{cause=\"" + cause + "\""))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no series for cause " + cause));
    }
}
