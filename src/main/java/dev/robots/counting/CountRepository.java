package dev.robots.counting;

import dev.robots.db.Dialect;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** Writes summed references to the robots table, one transaction per flush. */
final class CountRepository {
    private final Pool pool;
    private final Dialect dialect;

    CountRepository(Pool pool, Dialect dialect) {
        this.pool = pool;
        this.dialect = dialect;
    }

    /**
     * Adds {@code sums} to the robots' counts unless the flush {@code flushId} was applied before (a retry after a
     * commit whose outcome was unknown). Rows are updated one statement each, in id order: every flusher then takes
     * its row locks in the same order, so concurrent flushers from several instances cannot deadlock (a single
     * {@code UPDATE ... FROM (VALUES ...)} locks rows in scan order and does). Ids of deleted robots match no row and
     * are dropped.
     *
     * @return whether this call applied the sums (false: they were applied already)
     */
    Future<Boolean> apply(String flushId, Map<Long, Long> sums) {
        List<Map<String, Object>> updates = new ArrayList<>(sums.size());
        sums.entrySet().stream()
                .sorted(Map.Entry.comparingByKey(Comparator.naturalOrder()))
                .forEach(e -> updates.add(Map.of("id", e.getKey(), "n", e.getValue())));
        return dialect.inTransaction(pool, conn -> alreadyApplied(conn, flushId).compose(applied -> applied
                ? Future.succeededFuture(false)
                : SqlTemplate.forUpdate(conn, "INSERT INTO count_flushes (id) VALUES (#{id})")
                        .execute(Map.of("id", flushId))
                        .compose(inserted -> SqlTemplate.forUpdate(conn, "UPDATE robots "
                                        + "SET count = count + #{n}, version = version + 1 WHERE id = #{id}")
                                .executeBatch(updates))
                        .map(true)));
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
