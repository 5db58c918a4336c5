package dev.robots.robots;

import dev.robots.db.Dialect;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.templates.RowMapper;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The robots table. Each query is one SQL template that runs on PostgreSQL and on the embedded H2 alike. */
final class RobotRepository {
    private static final RowMapper<Robot> ROBOT = Robot::of;

    private final SqlTemplate<Map<String, Object>, RowSet<Robot>> findAll;
    private final SqlTemplate<Map<String, Object>, RowSet<Robot>> page;
    private final Dialect dialect;

    RobotRepository(Pool pool, Dialect dialect) {
        this.dialect = dialect;
        findAll = SqlTemplate.forQuery(pool, "SELECT " + Robot.COLUMNS + " FROM robots WHERE id = ANY(#{ids})")
                .mapTo(ROBOT);
        page = SqlTemplate.forQuery(pool,
                        "SELECT " + Robot.COLUMNS + " FROM robots WHERE id > #{after} ORDER BY id LIMIT #{limit}")
                .mapTo(ROBOT);
    }

    /** The robots of {@code ids} that exist, in no particular order. */
    Future<List<Robot>> findAll(Collection<Long> ids) {
        return findAll.execute(Map.of("ids", ids.toArray(Long[]::new))).map(RobotRepository::list);
    }

    /** Up to {@code limit} robots with ids above {@code after}, in id order. */
    Future<List<Robot>> page(long after, int limit) {
        return page.execute(Map.of("after", after, "limit", limit)).map(RobotRepository::list);
    }

    /**
     * Creates a robot on {@code client} (a transaction's connection, say) with the id sequence's next value; empty
     * when a row already has that id (one inserted by hand with an explicit id the sequence had not reached). Without
     * an error: on PostgreSQL a failed statement would abort the transaction it is in. The id is the table's only
     * unique constraint, so no other conflict is passed over.
     */
    Future<Optional<Robot>> create(SqlClient client, String name) {
        return SqlTemplate.forQuery(client, dialect.returning(
                        "INSERT INTO robots (name) VALUES (#{name}) ON CONFLICT DO NOTHING", Robot.COLUMNS))
                .mapTo(ROBOT)
                .execute(Map.of("name", name))
                .map(RobotRepository::first);
    }

    /**
     * The robot, its row locked until the transaction of {@code conn} ends: a conditional write reads the ETag and
     * writes under the same lock, so no other write comes between.
     */
    Future<Optional<Robot>> lock(SqlClient conn, long id) {
        return SqlTemplate.forQuery(conn, "SELECT " + Robot.COLUMNS + " FROM robots WHERE id = #{id} FOR UPDATE")
                .mapTo(ROBOT)
                .execute(Map.of("id", id))
                .map(RobotRepository::first);
    }

    Future<Optional<Robot>> rename(SqlClient conn, long id, String name) {
        return SqlTemplate.forQuery(conn, dialect.returning(
                        "UPDATE robots SET name = #{name}, version = version + 1 WHERE id = #{id}", Robot.COLUMNS))
                .mapTo(ROBOT)
                .execute(Map.of("id", id, "name", name))
                .map(RobotRepository::first);
    }

    /** Whether there was such a robot. */
    Future<Boolean> delete(SqlClient conn, long id) {
        return SqlTemplate.forUpdate(conn, "DELETE FROM robots WHERE id = #{id}")
                .execute(Map.of("id", id))
                .map(result -> result.rowCount() > 0);
    }

    private static List<Robot> list(RowSet<Robot> rows) {
        var robots = new ArrayList<Robot>(rows.size());
        rows.forEach(robots::add);
        return robots;
    }

    private static Optional<Robot> first(Iterable<Robot> rows) {
        var iterator = rows.iterator();
        return iterator.hasNext() ? Optional.of(iterator.next()) : Optional.empty();
    }
}
