package dev.robots.robots;

import dev.robots.db.Dialect;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.templates.RowMapper;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The robots table. Each query is one SQL template that runs on PostgreSQL and on the embedded H2 alike. */
final class RobotRepository {
    private static final RowMapper<Robot> ROBOT = Robot::of;

    private final SqlTemplate<Map<String, Object>, RowSet<Robot>> find;
    private final SqlTemplate<Map<String, Object>, RowSet<Robot>> page;
    private final SqlTemplate<Map<String, Object>, RowSet<Robot>> create;
    private final SqlTemplate<Map<String, Object>, RowSet<Robot>> rename;
    private final SqlTemplate<Map<String, Object>, SqlResult<Void>> delete;
    private final SqlTemplate<Map<String, Object>, SqlResult<Void>> repaired;

    RobotRepository(Pool pool, Dialect dialect) {
        find = SqlTemplate.forQuery(pool, "SELECT " + Robot.COLUMNS + " FROM robots WHERE id = #{id}")
                .mapTo(ROBOT);
        page = SqlTemplate.forQuery(pool,
                        "SELECT " + Robot.COLUMNS + " FROM robots WHERE id > #{after} ORDER BY id LIMIT #{limit}")
                .mapTo(ROBOT);
        create = SqlTemplate.forQuery(pool,
                        dialect.returning("INSERT INTO robots (name) VALUES (#{name})", Robot.COLUMNS))
                .mapTo(ROBOT);
        rename = SqlTemplate.forQuery(pool,
                        dialect.returning("UPDATE robots SET name = #{name}, version = version + 1 WHERE id = #{id}",
                                Robot.COLUMNS))
                .mapTo(ROBOT);
        delete = SqlTemplate.forUpdate(pool, "DELETE FROM robots WHERE id = #{id}");
        repaired = SqlTemplate.forUpdate(pool,
                "UPDATE robots SET repairs = repairs + 1, repaired_at = CURRENT_TIMESTAMP, version = version + 1 "
                        + "WHERE id = #{id}");
    }

    Future<Optional<Robot>> find(long id) {
        return find.execute(Map.of("id", id)).map(RobotRepository::first);
    }

    /** Up to {@code limit} robots with ids above {@code after}, in id order. */
    Future<List<Robot>> page(long after, int limit) {
        return page.execute(Map.of("after", after, "limit", limit)).map(rows -> {
            var robots = new ArrayList<Robot>(rows.size());
            rows.forEach(robots::add);
            return robots;
        });
    }

    Future<Robot> create(String name) {
        return create.execute(Map.of("name", name)).map(rows -> rows.iterator().next());
    }

    Future<Optional<Robot>> rename(long id, String name) {
        return rename.execute(Map.of("id", id, "name", name)).map(RobotRepository::first);
    }

    /** Whether there was such a robot. */
    Future<Boolean> delete(long id) {
        return delete.execute(Map.of("id", id)).map(result -> result.rowCount() > 0);
    }

    /** Records a finished repair on the robot; whether there still was such a robot. */
    Future<Boolean> recordRepair(long id) {
        return repaired.execute(Map.of("id", id)).map(result -> result.rowCount() > 0);
    }

    private static Optional<Robot> first(Iterable<Robot> rows) {
        var iterator = rows.iterator();
        return iterator.hasNext() ? Optional.of(iterator.next()) : Optional.empty();
    }
}
