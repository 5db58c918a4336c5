package dev.robots.repairs;

import dev.robots.db.Timestamps;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;

/** A repair as stored, and its JSON form (the status monitor of its 202). */
record Repair(long id, long robotId, String robotName, String status, Instant createdAt, Instant startedAt,
        Instant finishedAt, String failure) {
    static final String COLUMNS = "id, robot_id, robot_name, status, created_at, started_at, finished_at, failure";

    static Repair of(Row row) {
        return new Repair(
                row.getLong("id"),
                row.getLong("robot_id"),
                row.getString("robot_name"),
                row.getString("status"),
                Timestamps.instant(row.getValue("created_at")),
                Timestamps.instant(row.getValue("started_at")),
                Timestamps.instant(row.getValue("finished_at")),
                row.getString("failure"));
    }

    JsonObject toJson() {
        return new JsonObject()
                .put("id", id)
                .put("robot_id", robotId)
                .put("status", status)
                .put("message", "Start repairing %s.".formatted(robotName))
                .put("created_at", Timestamps.rfc3339(createdAt))
                .put("started_at", Timestamps.rfc3339(startedAt))
                .put("finished_at", Timestamps.rfc3339(finishedAt))
                .put("failure", failure);
    }

    /** Where the status monitor of repair {@code id} is. */
    static String location(long id) {
        return "/v1/repairs/" + id;
    }

}
