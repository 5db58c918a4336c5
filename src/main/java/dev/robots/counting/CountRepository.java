package dev.robots.counting;

import dev.robots.db.Dialect;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collector;

/** Writes summed references to the robots table, one transaction per chunk of a flush. */
final class CountRepository {
    /**
     * PostgreSQL: the chunk's rows are locked first, skipping those another transaction holds (a rename or repair in
     * flight, another instance's flush, a {@code SELECT ... FOR UPDATE} left open in psql), then the sums of the rows
     * locked are added. A chunk waited for such a row before, with no limit, and every other robot of the chunk with
     * it; the flusher now puts a skipped robot's sum back for the next flush. Nothing waits for a row lock, so
     * flushers of several instances cannot deadlock whatever order they lock rows in. A CTE with a locking clause is
     * evaluated once, on its own (never folded into the UPDATE), so the UPDATE touches only rows it has locked.
     * {@link #SETTINGS} keeps the rows read through the primary key (one index lookup per robot, also on a table so
     * small that PostgreSQL would rather scan it). On the 1M-robot table the locking step took a 1,000-robot chunk's
     * statement from 10 to 12 ms (medians; ARCHITECTURE.md).
     */
    private static final String ADD = "WITH locked AS (SELECT r.id, u.n FROM unnest($1::bigint[], $2::bigint[]) "
            + "AS u(id, n) JOIN robots AS r ON r.id = u.id FOR UPDATE OF r SKIP LOCKED) "
            + "UPDATE robots AS r SET count = r.count + l.n FROM locked AS l WHERE r.id = l.id RETURNING r.id, r.count";
    /**
     * Which of the robots a chunk did not write still exist (so they were skipped, not deleted), recorded with the
     * flush's row for a retry of it. A row whose deletion is still uncommitted counts as skipped: the next flush
     * finds it gone and drops its sum then.
     */
    private static final String SKIPPED = "UPDATE count_flushes SET skipped = "
            + "NULLIF(ARRAY(SELECT id FROM robots WHERE id = ANY($2::bigint[]) ORDER BY id), '{}') "
            + "WHERE id = $1 RETURNING skipped";
    /**
     * PostgreSQL, for the flush's transaction only: no statement of it waits for a lock, or runs, without bound (a
     * table locked by hand, the unfinished attempt of this chunk still holding its {@code count_flushes} key, a
     * database too busy to answer): past these it fails, and the chunk is retried with the same flush id like any
     * failed chunk. The lock timeout is the shorter, so that a lock wait fails as one. Both are below
     * DB_SOCKET_TIMEOUT_MS's default (5 s), so that the database's abort (a known rollback) normally comes before the
     * client gives the connection up (an unknown outcome). Sequential and bitmap scans are off so that robots are read
     * through the primary key; the join methods stay, since the statement trigger's join of the transition tables
     * needs a hash join (without one it is a nested loop over both, and a 5,000-row chunk took seconds).
     */
    private static final String SETTINGS = "SELECT set_config('lock_timeout', '2s', true), "
            + "set_config('statement_timeout', '4s', true), "
            + "set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)";
    private static final long[] NONE = {};

    /**
     * What one chunk did.
     *
     * @param repeated the chunk had been applied before (a retry after a commit whose outcome was unknown): nothing
     *                 was applied now, and {@code counts} is empty
     * @param counts   the new count of each robot it wrote
     * @param skipped  the robots, ascending, whose rows another transaction held locked: their sums were not added
     */
    record Outcome(boolean repeated, LongLongMap counts, long[] skipped) {
    }

    private final Pool pool;
    private final Dialect dialect;

    CountRepository(Pool pool, Dialect dialect) {
        this.pool = pool;
        this.dialect = dialect;
    }

    /**
     * Adds the sums of one chunk (the first {@code size} places of {@code ids}, ascending, and of {@code sums} beside
     * them) to the robots' counts unless the flush {@code flushId} was applied before (a retry after a commit whose
     * outcome was unknown). Ids of deleted robots match no row and are dropped; robots whose rows are locked elsewhere are skipped (PostgreSQL). The count
     * column alone changes: a robot's {@code version} stays, so that cached robots stay valid (their counts come from
     * {@code counted}).
     */
    Future<Outcome> apply(String flushId, long[] ids, long[] sums, int size) {
        return dialect.inTransaction(pool, conn -> bounded(conn)
                .compose(set -> earlier(conn, flushId))
                .compose(earlier -> earlier.isPresent()
                        ? Future.succeededFuture(earlier.get())
                        : SqlTemplate.forUpdate(conn, "INSERT INTO count_flushes (id) VALUES (#{id})")
                                .execute(Map.of("id", flushId))
                                .compose(inserted -> add(conn, ids, sums, size))
                                .compose(counts -> outcome(conn, flushId, ids, size, counts))));
    }

    private Future<Void> bounded(SqlConnection conn) {
        // H2: one process and no locks taken by hand; a lock wait ends at the session's LOCK_TIMEOUT (1 s, Dialect).
        return dialect == Dialect.POSTGRESQL ? conn.query(SETTINGS).execute().mapEmpty() : Future.succeededFuture();
    }

    /** Adds the sums; the new count of each robot written. */
    private Future<LongLongMap> add(SqlConnection conn, long[] ids, long[] sums, int size) {
        return switch (dialect) {
            // The returned rows go straight into the map as they are decoded: gathered into a row set first, a
            // chunk's 1,000 rows lived through the rest of its transaction, outlived young collections and were
            // promoted under the 1M-uniform bench.
            case POSTGRESQL -> conn.preparedQuery(ADD).collecting(newCounts())
                    .execute(Tuple.tuple().addArrayOfLong(boxed(ids, size)).addArrayOfLong(boxed(sums, size)))
                    .map(SqlResult::value);
            // H2 (one process, one flusher, no locks by hand) has neither unnest over two arrays in UPDATE ... FROM
            // nor RETURNING with several rows here: one batch of updates by primary key, then the new counts read
            // back in the same transaction. The ids are longs, so inlining them injects nothing.
            case H2 -> {
                var updates = new ArrayList<Tuple>(size);
                var list = new StringBuilder(size * 8);
                for (int i = 0; i < size; i++) {
                    updates.add(Tuple.of(sums[i], ids[i]));
                    list.append(i == 0 ? "" : ",").append(ids[i]);
                }
                yield conn.preparedQuery("UPDATE robots SET count = count + ? WHERE id = ?").executeBatch(updates)
                        .compose(updated -> conn.query("SELECT id, count FROM robots WHERE id IN (" + list + ")")
                                .collecting(newCounts()).execute())
                        .map(SqlResult::value);
            }
        };
    }

    /** The chunk's outcome from the counts it wrote; robots it did not write, if any, are told skipped or deleted. */
    private Future<Outcome> outcome(SqlConnection conn, String flushId, long[] ids, int size, LongLongMap counts) {
        if (counts.size() == size || dialect != Dialect.POSTGRESQL) {
            return Future.succeededFuture(new Outcome(false, counts, NONE));
        }
        long[] unwritten = Arrays.stream(ids, 0, size).filter(id -> !counts.containsKey(id)).toArray();
        return conn.preparedQuery(SKIPPED).execute(Tuple.of(flushId).addArrayOfLong(boxed(unwritten, unwritten.length)))
                .map(recorded -> new Outcome(false, counts, skipped(recorded.iterator().next())));
    }

    /**
     * Rows of (id, count) into a map of new counts. Not presized: the client asks for a fresh container at the start
     * and again at the end of every result, and the second is thrown away.
     */
    private static Collector<Row, LongLongMap, LongLongMap> newCounts() {
        return Collector.of(LongLongMap::new, (counts, row) -> counts.add(row.getLong(0), row.getLong(1)),
                (a, b) -> {
                    a.addAll(b);
                    return a;
                });
    }

    /** The outcome of flush {@code flushId} if applied before: nothing is written now, the same robots skipped. */
    private Future<Optional<Outcome>> earlier(SqlConnection conn, String flushId) {
        return SqlTemplate.forQuery(conn, "SELECT skipped FROM count_flushes WHERE id = #{id}")
                .execute(Map.of("id", flushId))
                .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(new Outcome(true, new LongLongMap(),
                        dialect == Dialect.POSTGRESQL ? skipped(rows.iterator().next()) : NONE)));
    }

    private static long[] skipped(Row row) {
        Long[] ids = row.getArrayOfLongs(0);
        return ids == null ? NONE : Arrays.stream(ids).mapToLong(Long::longValue).toArray();
    }

    private static Long[] boxed(long[] values, int size) {
        var boxed = new Long[size];
        for (int i = 0; i < size; i++) {
            boxed[i] = values[i];
        }
        return boxed;
    }

    /** Forgets applied flushes older than a day: long past any retry of this process. */
    Future<Integer> pruneFlushes() {
        return SqlTemplate.forUpdate(pool,
                        "DELETE FROM count_flushes WHERE flushed_at < CURRENT_TIMESTAMP - INTERVAL '1' DAY")
                .execute(Map.of())
                .map(result -> result.rowCount());
    }
}
