package dev.robots.robots;

import static org.assertj.core.api.Assertions.assertThat;

import dev.robots.RunningService;
import dev.robots.TcpProxy;
import dev.robots.TestDatabase;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Two instances on one PostgreSQL database, each with its read cache: a change made through one is seen through the
 * other, promptly and for good, and the cache serves reads between changes. Instance B reaches the database through a
 * proxy, so that its listening connection can be cut.
 */
class CacheCoherenceTest {
    /** How long a change may take to reach the other instance (a notification on commit; the TTL is 5 s). */
    private static final long PROMPT_MS = 1_000;

    @Test
    void changes_through_one_instance_reach_the_cache_of_the_other() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var proxy = new TcpProxy(URI.create(TestDatabase.ADMIN_URL).getPort())) {
            String viaProxy = database.url().replaceFirst(":\\d+/", ":" + proxy.port() + "/");
            try (var a = RunningService.start(database);
                    // B flushes its references only when it stops: its own flushes would refresh its cache too.
                    var b = RunningService.start(database, Map.of("DATABASE_URL", viaProxy,
                            "COUNT_FLUSH_MS", "600000"))) {
                awaitTrue("B's cache on", () -> b.app().cache().enabled());
                long id = a.create("Astro");
                long other = a.create("Bender");

                // Reads on B fill its cache; the robot's row is then read from it, not from the database.
                assertThat(name(b, id)).isEqualTo("Astro");
                assertThat(b.app().cache().size()).isEqualTo(1);
                double queries = requestQueries(b);
                for (int i = 0; i < 200; i++) {
                    assertThat(name(b, id)).isEqualTo("Astro");
                }
                // A flush of the references may change the row and cost a reload or two; not one per GET.
                assertThat(requestQueries(b) - queries).as("queries for 200 cached GETs").isLessThan(5);

                // A rename through A: B serves the new name within PROMPT_MS, and never the old one after that.
                rename(a, id, "Astro II");
                long seen = awaitOn(b, id, body -> body.getString("name").equals("Astro II"));
                assertThat(seen).isLessThan(PROMPT_MS);
                for (int i = 0; i < 50; i++) {
                    assertThat(name(b, id)).isEqualTo("Astro II");
                }
                assertThat(name(b, other)).isEqualTo("Bender");

                // References counted and flushed by A: B's answer shows the new count.
                long before = new JsonObject(b.get("/v1/robots/" + id).body()).getLong("count");
                for (int i = 0; i < 30; i++) {
                    assertThat(a.get("/v1/robots/" + id).statusCode()).isEqualTo(200);
                }
                a.awaitFlushed();
                assertThat(awaitOn(b, id, body -> body.getLong("count") >= before + 30)).isLessThan(PROMPT_MS);

                // Renames through A while readers hammer B: each reader sees names only move forward, and the
                // last one within PROMPT_MS of the last commit.
                var stop = new AtomicBoolean();
                var regressions = new ConcurrentLinkedQueue<String>();
                try (var readers = Executors.newVirtualThreadPerTaskExecutor()) {
                    var running = new ArrayList<java.util.concurrent.Future<?>>();
                    for (int r = 0; r < 8; r++) {
                        running.add(readers.submit(() -> {
                            int last = -1;
                            while (!stop.get()) {
                                String name = name(b, id);
                                int version = name.startsWith("v") ? Integer.parseInt(name.substring(1)) : -1;
                                if (version < last) {
                                    regressions.add("v" + last + " then " + name);
                                }
                                last = Math.max(last, version);
                            }
                            return null;
                        }));
                    }
                    for (int v = 1; v <= 100; v++) {
                        rename(a, id, "v" + v);
                    }
                    long afterLast = awaitOn(b, id, body -> body.getString("name").equals("v100"));
                    assertThat(afterLast).isLessThan(PROMPT_MS);
                    stop.set(true);
                    for (var reader : running) {
                        reader.get();
                    }
                }
                assertThat(regressions).isEmpty();

                // A delete through A: B answers 404 and keeps answering it.
                assertThat(a.send("DELETE", "/v1/robots/" + other, null, null).statusCode()).isEqualTo(204);
                long gone = awaitStatus(b, other, 404);
                assertThat(gone).isLessThan(PROMPT_MS);
                assertThat(b.get("/v1/robots/" + other).statusCode()).isEqualTo(404);

                // B loses its connections (its listener among them): its cache goes off, and once B is back,
                // changes through A reach it again.
                proxy.cut();
                awaitTrue("B's cache off", () -> !b.app().cache().enabled());
                rename(a, id, "while B was away");
                proxy.restore();
                awaitTrue("B's cache on again", () -> b.app().cache().enabled());
                assertThat(awaitOn(b, id, body -> body.getString("name").equals("while B was away")))
                        .isLessThan(PROMPT_MS);
                rename(a, id, "after B came back");
                assertThat(awaitOn(b, id, body -> body.getString("name").equals("after B came back")))
                        .isLessThan(PROMPT_MS);
            }
        }
    }

    @Test
    void two_instances_stay_coherent_with_batched_announcements_and_hand_edits_in_sql() throws Exception {
        int robots = 300;
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var a = RunningService.start(database);
                // B flushes only when it stops: the counts it shows are A's, as announced. Its entries never expire
                // during the test: only announcements can make it drop them.
                var b = RunningService.start(database, Map.of("COUNT_FLUSH_MS", "600000",
                        "CACHE_TTL_MS", "600000"))) {
            awaitTrue("B's cache on", () -> b.app().cache().enabled());
            sql(database, "INSERT INTO robots (name) SELECT 'hand-' || g FROM generate_series(1, %d) g"
                    .formatted(robots));
            for (long id = 1; id <= robots; id++) {
                assertThat(name(b, id)).isEqualTo("hand-" + id);
            }
            assertThat(b.app().cache().size()).isEqualTo(robots);

            // A counts two retrievals of each robot and flushes them: one statement and one notification per flush
            // (each second; V6 sent one per robot, 300 or more), and B's cached robots take the new counts without
            // being dropped.
            double heard = notifications(b);
            for (long id = 1; id <= robots; id++) {
                assertThat(a.get("/v1/robots/" + id).statusCode()).isEqualTo(200);
                assertThat(a.get("/v1/robots/" + id).statusCode()).isEqualTo(200);
            }
            a.awaitFlushed();
            for (long id = 1; id <= robots; id++) {
                awaitOn(b, id, body -> body.getLong("count") == 2);
            }
            assertThat(notifications(b) - heard).as("notifications B received for one flush of %d robots", robots)
                    .isBetween(1.0, robots / 10.0);
            assertThat(b.app().cache().size()).as("count changes keep cached robots").isEqualTo(robots);
            double queries = requestQueries(b);
            for (long id = 1; id <= robots; id++) {
                name(b, id);
            }
            assertThat(requestQueries(b) - queries).as("queries for %d cached GETs".formatted(robots)).isZero();

            // Changes by hand in SQL reach B too: a rename of every robot in one statement, a count set back, a
            // delete, a truncation.
            sql(database, "UPDATE robots SET name = 'renamed-' || id");
            for (long id = 1; id <= robots; id++) {
                long robot = id;
                awaitOn(b, id, body -> body.getString("name").equals("renamed-" + robot));
            }
            sql(database, "UPDATE robots SET count = 0 WHERE id = 1");
            awaitOn(b, 1, body -> body.getLong("count") == 0);
            sql(database, "DELETE FROM robots WHERE id = 2");
            awaitStatus(b, 2, 404);
            // TRUNCATE fires no DELETE trigger; V12 announces it.
            assertThat(b.app().cache().contains(3)).isTrue();
            sql(database, "TRUNCATE robots");
            awaitStatus(b, 3, 404);
        }
    }

    /**
     * The announcement trigger tells a count-only change (cached copies stay, with the new count) from any other by
     * comparing the columns the API shows, listed in V11. A hand edit of each column but id and count, found in the
     * catalogue, must be announced as a change: a migration that adds a column without adding it there fails here.
     */
    @Test
    void a_hand_edit_of_any_column_but_count_is_announced_as_a_change() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var service = RunningService.start(database);
                var listener = database.connect()) {
            sql(database, "INSERT INTO robots (name) VALUES ('hand')");
            long id = 1;
            var notifications = listener.unwrap(org.postgresql.PGConnection.class);
            try (var listen = listener.createStatement()) {
                listen.execute("LISTEN robots_changed");
            }
            var columns = new java.util.LinkedHashMap<String, String>();
            try (var query = listener.createStatement(); var rows = query.executeQuery(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'robots' "
                            + "AND column_name NOT IN ('id', 'count') ORDER BY ordinal_position")) {
                while (rows.next()) {
                    columns.put(rows.getString(1), rows.getString(2));
                }
            }
            assertThat(columns).containsKeys("name", "version");
            for (var column : columns.entrySet()) {
                String changed = switch (column.getValue()) {
                    case "bigint", "integer" -> column.getKey() + " + 1";
                    case "character varying", "text" -> column.getKey() + " || 'x'";
                    case "timestamp with time zone" -> "coalesce(%s, now()) + interval '1 second'"
                            .formatted(column.getKey());
                    default -> throw new AssertionError("no hand edit for column %s of type %s here: add one, and add "
                            .formatted(column.getKey(), column.getValue()) + "the column to V11's comparison");
                };
                sql(database, "UPDATE robots SET %s = %s, count = count + 1 WHERE id = %d"
                        .formatted(column.getKey(), changed, id));
                assertThat(announced(notifications)).as("announcement of a hand edit of %s", column.getKey())
                        .containsExactly(Long.toString(id));
            }
            sql(database, "UPDATE robots SET count = count + 1 WHERE id = " + id);
            assertThat(announced(notifications)).as("announcement of a count-only change")
                    .containsExactly(id + "=" + (columns.size() + 1));
        }
    }

    /**
     * A client that names a version in If-Match or If-None-Match has seen it: a cached copy older than that is stale
     * and is not served to it. Made with the triggers off, the change below is never announced (the cache would serve
     * version 0 until it expired); a change through another instance is unheard for a moment after its commit, in
     * which a client that wrote there and read here with its new ETag got the old robot or a false 412.
     */
    @Test
    void a_cached_copy_older_than_the_etag_a_client_names_is_not_served_to_it() throws Exception {
        try (var database = (TestDatabase.Postgres) TestDatabase.create("postgresql");
                var service = RunningService.start(database)) {
            awaitTrue("cache on", () -> service.app().cache().enabled());
            long id = service.create("Seen");
            assertThat(service.get("/v1/robots/" + id).headers().firstValue("ETag")).hasValue("\"0\"");
            sql(database, "SET session_replication_role = replica; "
                    + "UPDATE robots SET name = 'Unheard', version = version + 1 WHERE id = " + id);
            assertThat(name(service, id)).as("plain reads may be stale until the entry expires").isEqualTo("Seen");

            var matching = service.send(service.request("GET", "/v1/robots/" + id, null, null)
                    .header("If-Match", "\"1\""));
            assertThat(matching.statusCode()).isEqualTo(200);
            assertThat(matching.headers().firstValue("ETag")).hasValue("\"1\"");
            assertThat(new JsonObject(matching.body()).getString("name")).isEqualTo("Unheard");
            var current = service.send(service.request("GET", "/v1/robots/" + id, null, null)
                    .header("If-None-Match", "W/\"1\""));
            assertThat(current.statusCode()).isEqualTo(304);
            // The database's answer replaced the stale copy: plain reads see it too now.
            assertThat(name(service, id)).isEqualTo("Unheard");
            // A tag the robot never had costs a read of the database, and answers what is there.
            var ahead = service.send(service.request("GET", "/v1/robots/" + id, null, null)
                    .header("If-None-Match", "\"99\""));
            assertThat(ahead.statusCode()).isEqualTo(200);
            assertThat(ahead.headers().firstValue("ETag")).hasValue("\"1\"");
        }
    }

    private static java.util.List<String> announced(org.postgresql.PGConnection connection) throws Exception {
        var items = new ArrayList<String>();
        var received = connection.getNotifications(5_000);
        for (var notification : received == null ? new org.postgresql.PGNotification[0] : received) {
            items.addAll(java.util.List.of(notification.getParameter().split(",")));
        }
        return items;
    }

    private static void sql(TestDatabase.Postgres database, String statement) throws java.sql.SQLException {
        try (var connection = database.connect(); var statementRun = connection.createStatement()) {
            statementRun.execute(statement);
        }
    }

    private static double notifications(RunningService service) {
        return service.scrape().lines()
                .filter(line -> line.startsWith("robots_changes_notifications_total"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .sum();
    }

    private static String name(RunningService service, long id) {
        var response = service.get("/v1/robots/" + id);
        assertThat(response.statusCode()).isEqualTo(200);
        return new JsonObject(response.body()).getString("name");
    }

    private static void rename(RunningService service, long id, String name) {
        var response = service.send("PATCH", "/v1/robots/" + id, "application/json",
                new JsonObject().put("name", name).encode());
        assertThat(response.statusCode()).isEqualTo(200);
    }

    /** Milliseconds until GET of robot {@code id} on {@code service} satisfies {@code wanted}; fails after 10 s. */
    private static long awaitOn(RunningService service, long id, Predicate<JsonObject> wanted)
            throws InterruptedException {
        long started = System.nanoTime();
        while (true) {
            var response = service.get("/v1/robots/" + id);
            if (response.statusCode() == 200 && wanted.test(new JsonObject(response.body()))) {
                return (System.nanoTime() - started) / 1_000_000;
            }
            if (System.nanoTime() - started > 10_000_000_000L) {
                throw new AssertionError("still " + response.statusCode() + " " + response.body());
            }
            Thread.sleep(5);
        }
    }

    private static long awaitStatus(RunningService service, long id, int status) throws InterruptedException {
        long started = System.nanoTime();
        while (service.get("/v1/robots/" + id).statusCode() != status) {
            if (System.nanoTime() - started > 10_000_000_000L) {
                throw new AssertionError("robot " + id + " never answered " + status);
            }
            Thread.sleep(5);
        }
        return (System.nanoTime() - started) / 1_000_000;
    }

    private static void awaitTrue(String what, java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + " did not happen within 15 s");
            }
            Thread.sleep(20);
        }
    }

    /** Queries that the request pools of {@code service} have run so far, from its Prometheus metrics. */
    static double requestQueries(RunningService service) {
        return service.scrape().lines()
                .filter(line -> line.startsWith("vertx_pool_completed_total{pool_name=\"requests-"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .sum();
    }
}
