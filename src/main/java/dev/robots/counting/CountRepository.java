package dev.robots.counting;

import dev.robots.db.Dialect;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.util.ArrayList;
import java.util.Map;
import java.util.Optional;

/** Writes summed references to the robots table, one transaction per chunk of a flush. */
final class CountRepository {
    /**
     * PostgreSQL: every sum added in one statement that updates (and so locks) the rows in id order: the sorted sums
     * are the outer side of a nested loop over the primary key. Every flusher, of any instance, then locks rows in the
     * same order, so concurrent flushers do not deadlock. That plan is what PostgreSQL picks for a chunk's few
     * thousand ids out of many rows, but not for a small table (a hash join over a sequential scan, in the table's
     * physical order, which updates change): {@link #IN_ID_ORDER}, for this transaction only, takes the scans in
     * physical order away (sequential and bitmap scans), so that the robots are read through the primary key in id
     * order whatever the join; the join methods stay, since the statement trigger's join of the transition tables
     * needs a hash join (without one it is a nested loop over both, and a 5,000-row chunk took seconds). Locking the rows beforehand with {@code SELECT ... ORDER BY id FOR UPDATE} did the same at a quarter to a
     * third of a 5,000-row chunk's time (24-58 ms of 110-150 ms on the 1M bench table).
     */
    private static final String ADD = "UPDATE robots AS r SET count = r.count + d.n "
            + "FROM (SELECT u.id, u.n FROM unnest($1::bigint[], $2::bigint[]) AS u(id, n) ORDER BY u.id) AS d "
            + "WHERE r.id = d.id RETURNING r.id, r.count";
    private static final String IN_ID_ORDER =
            "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)";

    private final Pool pool;
    private final Dialect dialect;

    CountRepository(Pool pool, Dialect dialect) {
        this.pool = pool;
        this.dialect = dialect;
    }

    /**
     * Adds the sums of one chunk ({@code ids} ascending, {@code sums} beside them) to the robots' counts unless the
     * flush {@code flushId} was applied before (a retry after a commit whose outcome was unknown). Ids of deleted
     * robots match no row and are dropped. The count column alone changes: a robot's {@code version} stays, so that
     * cached robots stay valid (their counts come from {@code counted}).
     *
     * @return each robot's count after this chunk, once it committed; empty when the sums had been applied already
     */
    Future<Optional<LongLongMap>> apply(String flushId, long[] ids, long[] sums) {
        return dialect.inTransaction(pool, conn -> alreadyApplied(conn, flushId).compose(applied -> applied
                ? Future.succeededFuture(Optional.<LongLongMap>empty())
                : SqlTemplate.forUpdate(conn, "INSERT INTO count_flushes (id) VALUES (#{id})")
                        .execute(Map.of("id", flushId))
                        .compose(inserted -> add(conn, ids, sums))
                        .map(rows -> {
                            var counts = new LongLongMap(rows.size());
                            for (Row row : rows) {
                                counts.add(row.getLong(0), row.getLong(1));
                            }
                            return Optional.of(counts);
                        })));
    }

    private Future<RowSet<Row>> add(SqlConnection conn, long[] ids, long[] sums) {
        return switch (dialect) {
            case POSTGRESQL -> {
                Long[] boxedIds = new Long[ids.length];
                Long[] boxedSums = new Long[sums.length];
                for (int i = 0; i < ids.length; i++) {
                    boxedIds[i] = ids[i];
                    boxedSums[i] = sums[i];
                }
                yield conn.query(IN_ID_ORDER).execute().compose(planned -> conn.preparedQuery(ADD)
                        .execute(Tuple.tuple().addArrayOfLong(boxedIds).addArrayOfLong(boxedSums)));
            }
            // H2 (one process, one flusher: no lock order to keep) has neither unnest over two arrays in UPDATE
            // ... FROM nor RETURNING with several rows here: one batch of updates by primary key, then the new
            // counts read back in the same transaction. The ids are longs, so inlining them injects nothing.
            case H2 -> {
                var updates = new ArrayList<Tuple>(ids.length);
                var list = new StringBuilder(ids.length * 8);
                for (int i = 0; i < ids.length; i++) {
                    updates.add(Tuple.of(sums[i], ids[i]));
                    list.append(i == 0 ? "" : ",").append(ids[i]);
                }
                yield conn.preparedQuery("UPDATE robots SET count = count + ? WHERE id = ?").executeBatch(updates)
                        .compose(updated -> conn.query("SELECT id, count FROM robots WHERE id IN (" + list + ")")
                                .execute());
            }
        };
    }

    private static Future<Boolean> alreadyApplied(SqlConnection conn, String flushId) {
        return SqlTemplate.forQuery(conn, "SELECT id FROM count_flushes WHERE id = #{id}")
                .execute(Map.of("id", flushId))
                .map(rows -> rows.size() > 0);
    }

    /** Forgets applied flushes older than a day: long past any retry of this process. */
    Future<Integer> pruneFlushes() {
        return SqlTemplate.forUpdate(pool,
                        "DELETE FROM count_flushes WHERE flushed_at < CURRENT_TIMESTAMP - INTERVAL '1' DAY")
                .execute(Map.of())
                .map(result -> result.rowCount());
    }
}
