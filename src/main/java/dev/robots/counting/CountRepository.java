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
     * PostgreSQL: lock the chunk's rows in id order, then add every sum in one statement. Every flusher, of any
     * instance, takes its row locks in the same order, so concurrent flushers cannot deadlock (an
     * {@code UPDATE ... FROM unnest(...)} alone would lock rows in the join's order, which is not id order).
     */
    private static final String LOCK = "SELECT id FROM robots WHERE id = ANY($1) ORDER BY id FOR UPDATE";
    private static final String ADD = "UPDATE robots AS r SET count = r.count + d.n "
            + "FROM unnest($1::bigint[], $2::bigint[]) AS d(id, n) WHERE r.id = d.id RETURNING r.id, r.count";

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
                yield conn.preparedQuery(LOCK).execute(Tuple.tuple().addArrayOfLong(boxedIds))
                        .compose(locked -> conn.preparedQuery(ADD)
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
