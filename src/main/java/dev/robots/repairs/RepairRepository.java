package dev.robots.repairs;

import dev.robots.db.Dialect;
import dev.robots.db.Timestamps;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code repairs} table (and the robot row a repair changes): the routes' reads and inserts, and the worker's
 * queue protocol of claim, renewal, apply and release. Each statement is bound to the client it is given (a pool, or
 * a transaction's connection), so one repository serves the per-event-loop pools and the worker's own.
 */
final class RepairRepository {
    private static final String CLAIMABLE = "(status = 'queued' OR (status = 'running' AND lease_until < #{now}))";

    private final Dialect dialect;

    RepairRepository(Dialect dialect) {
        this.dialect = dialect;
    }

    /** The robot's name, version and count (its ETag); its row locked until the transaction ends if {@code lock}. */
    Future<JsonObject> robot(SqlClient client, long id, boolean lock) {
        return SqlTemplate.forQuery(client, "SELECT name, version, count FROM robots WHERE id = #{id}"
                        + (lock ? " FOR UPDATE" : ""))
                .execute(Map.of("id", id))
                .map(rows -> rows.size() == 0 ? null : rows.iterator().next().toJson());
    }

    Future<Boolean> robotExists(SqlClient client, long id) {
        return SqlTemplate.forQuery(client, "SELECT COUNT(*) AS n FROM robots WHERE id = #{id}")
                .execute(Map.of("id", id))
                .map(rows -> rows.iterator().next().getLong("n") > 0);
    }

    /** A new queued repair of robot {@code robotId}, named as the robot is now. */
    Future<Repair> insert(SqlClient client, long robotId, String name) {
        return SqlTemplate.forQuery(client, dialect.returning(
                        "INSERT INTO repairs (robot_id, robot_name) VALUES (#{robot_id}, #{name})", Repair.COLUMNS))
                .mapTo(Repair::of)
                .execute(Map.of("robot_id", robotId, "name", name))
                .map(rows -> rows.iterator().next());
    }

    Future<Repair> find(SqlClient client, long id) {
        return SqlTemplate.forQuery(client, "SELECT " + Repair.COLUMNS + " FROM repairs WHERE id = #{id}")
                .mapTo(Repair::of)
                .execute(Map.of("id", id))
                .map(rows -> rows.size() == 0 ? null : rows.iterator().next());
    }

    /** Up to {@code limit} repairs of a robot with ids below {@code before}, newest first. */
    Future<List<Repair>> page(SqlClient client, long robotId, long before, int limit) {
        return SqlTemplate.forQuery(client, "SELECT " + Repair.COLUMNS + " FROM repairs "
                        + "WHERE robot_id = #{robot_id} AND id < #{before} ORDER BY id DESC LIMIT #{limit}")
                .mapTo(Repair::of)
                .execute(Map.of("robot_id", robotId, "before", before, "limit", limit))
                .map(rows -> {
                    var page = new ArrayList<Repair>(rows.size());
                    rows.forEach(page::add);
                    return page;
                });
    }

    /**
     * Sets the oldest claimable repair (queued, or running with a lease that ran out) running with {@code claim}
     * until {@code leaseUntil}; its id and robot id, or null when there is none. PostgreSQL picks the row with
     * {@code FOR UPDATE SKIP LOCKED}, so claimers never wait on each other; on H2 (one process) the conditional
     * UPDATE claims it only if it is still claimable, and its row count tells.
     */
    Future<Claimed> claim(SqlClient client, String claim, Instant now, Instant leaseUntil) {
        var params = new HashMap<String, Object>();
        params.put("now", utc(now));
        params.put("lease_until", utc(leaseUntil));
        params.put("claim", claim);
        // The repair's times are the database's, as its created_at and the robot's repaired_at are: the worker's
        // clock, read before it waited for a connection, put a started_at 27 ms before the created_at of a repair
        // queued meanwhile (black-box finding), and the JVM's and Cloud SQL's clocks differ anyway. The lease stays
        // on the instances' clocks, which alone compare it.
        String set = "UPDATE repairs SET status = 'running', started_at = CURRENT_TIMESTAMP, claim = #{claim}, "
                + "lease_until = #{lease_until}, attempts = attempts + 1 ";
        return switch (dialect) {
            case POSTGRESQL -> SqlTemplate.forQuery(client, set + "WHERE id = (SELECT id FROM repairs WHERE "
                            + CLAIMABLE + " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, robot_id")
                    .execute(params)
                    .map(rows -> rows.size() == 0 ? null : new Claimed(rows.iterator().next().getLong("id"),
                            rows.iterator().next().getLong("robot_id")));
            case H2 -> SqlTemplate.forQuery(client, "SELECT id FROM repairs WHERE " + CLAIMABLE
                            + " ORDER BY id LIMIT 1")
                    .execute(params)
                    .compose(rows -> {
                        if (rows.size() == 0) {
                            return Future.succeededFuture(null);
                        }
                        params.put("id", rows.iterator().next().getLong("id"));
                        return SqlTemplate.forQuery(client, dialect.returning(
                                        set + "WHERE id = #{id} AND " + CLAIMABLE, "id, robot_id"))
                                .execute(params)
                                .map(claimed -> claimed.size() == 0 ? null : new Claimed(
                                        claimed.iterator().next().getLong("id"),
                                        claimed.iterator().next().getLong("robot_id")));
                    });
        };
    }

    /** Extends the lease; false when the repair is no longer this claim's (taken over, or finished). */
    Future<Boolean> renew(SqlClient client, long id, String claim, Instant leaseUntil) {
        return SqlTemplate.forUpdate(client, "UPDATE repairs SET lease_until = #{lease_until} "
                        + "WHERE id = #{id} AND claim = #{claim} AND status = 'running'")
                .execute(Map.of("id", id, "claim", claim, "lease_until", utc(leaseUntil)))
                .map(renewed -> renewed.rowCount() == 1);
    }

    /**
     * In the caller's transaction: marks the repair done, if it is still this claim's (else fails with
     * {@link LostClaim}, and the caller rolls back), and moves the robot's repairs; a robot that is gone makes the
     * repair failed instead. Whether it was done.
     */
    Future<Boolean> apply(SqlClient conn, long id, long robotId, String claim) {
        var params = new HashMap<String, Object>();
        params.put("id", id);
        params.put("robot_id", robotId);
        params.put("claim", claim);
        params.put("failure", "Robot %d was deleted before the repair could be applied.".formatted(robotId));
        // One transaction: finished_at and the robot's repaired_at are the same instant.
        return SqlTemplate.forUpdate(conn, "UPDATE repairs SET status = 'done', finished_at = CURRENT_TIMESTAMP, "
                        + "lease_until = NULL WHERE id = #{id} AND claim = #{claim} AND status = 'running'")
                .execute(params)
                .compose(done -> done.rowCount() == 0
                        ? Future.failedFuture(new LostClaim())
                        : SqlTemplate.forUpdate(conn, "UPDATE robots SET repairs = repairs + 1, "
                                        + "repaired_at = CURRENT_TIMESTAMP, version = version + 1 WHERE id = #{robot_id}")
                                .execute(params))
                .compose(repaired -> repaired.rowCount() == 1
                        ? Future.succeededFuture(true)
                        : SqlTemplate.forUpdate(conn, "UPDATE repairs SET status = 'failed', failure = #{failure} "
                                        + "WHERE id = #{id}")
                                .execute(params)
                                .map(false));
    }

    /** Marks a repair of this claim failed with {@code failure}; whether it was still this claim's. */
    Future<Boolean> fail(SqlClient client, long id, String claim, String failure) {
        return SqlTemplate.forUpdate(client, "UPDATE repairs SET status = 'failed', failure = #{failure}, "
                        + "finished_at = CURRENT_TIMESTAMP, lease_until = NULL "
                        + "WHERE id = #{id} AND claim = #{claim} AND status = 'running'")
                .execute(Map.of("id", id, "claim", claim, "failure", failure))
                .map(marked -> marked.rowCount() == 1);
    }

    /** Puts a repair of this claim back in the queue, for another worker. */
    Future<Void> release(SqlClient client, long id, String claim) {
        return SqlTemplate.forUpdate(client, "UPDATE repairs SET status = 'queued', started_at = NULL, claim = NULL, "
                        + "lease_until = NULL WHERE id = #{id} AND claim = #{claim} AND status = 'running'")
                .execute(Map.of("id", id, "claim", claim))
                .mapEmpty();
    }

    /** How many repairs are queued and running on all instances, and when the oldest of them was created. */
    Future<QueueState> queueState(SqlClient client) {
        return SqlTemplate.forQuery(client, "SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM repairs "
                        + "WHERE status IN ('queued', 'running') GROUP BY status")
                .execute(Map.of())
                .map(rows -> {
                    long queued = 0;
                    long running = 0;
                    Instant oldest = null;
                    for (var row : rows) {
                        long n = row.getLong("n");
                        if ("queued".equals(row.getString("status"))) {
                            queued = n;
                        } else {
                            running = n;
                        }
                        Instant first = Timestamps.instant(row.getValue("oldest"));
                        if (first != null && (oldest == null || first.isBefore(oldest))) {
                            oldest = first;
                        }
                    }
                    return new QueueState(queued, running, oldest);
                });
    }

    private static OffsetDateTime utc(Instant instant) {
        return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    /** A repair a worker just claimed. */
    record Claimed(long id, long robotId) {
    }

    /** @param oldest creation time of the oldest queued or running repair; null when there is none */
    record QueueState(long queued, long running, Instant oldest) {
    }

    /** The repair is no longer this worker's: its lease ran out and another worker claimed it. */
    static final class LostClaim extends RuntimeException {
        LostClaim() {
            super("the claim was lost", null, false, false);
        }
    }
}
