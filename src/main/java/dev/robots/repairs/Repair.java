package dev.robots.repairs;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** A repair as stored, and its JSON form (the status monitor of its 202). */
record Repair(long id, long robotId, String robotName, String status, Instant createdAt, Instant startedAt,
        Instant finishedAt, String failure) {
    static final String COLUMNS = "id, robot_id, robot_name, status, created_at, started_at, finished_at, failure";

    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSX").withZone(ZoneOffset.UTC);

    static Repair of(Row row) {
        return new Repair(
                row.getLong("id"),
                row.getLong("robot_id"),
                row.getString("robot_name"),
                row.getString("status"),
                instant(row.getValue("created_at")),
                instant(row.getValue("started_at")),
                instant(row.getValue("finished_at")),
                row.getString("failure"));
    }

    JsonObject toJson() {
        return new JsonObject()
                .put("id", id)
                .put("robot_id", robotId)
                .put("status", status)
                .put("message", "Start repairing %s.".formatted(robotName))
                .put("created_at", format(createdAt))
                .put("started_at", format(startedAt))
                .put("finished_at", format(finishedAt))
                .put("failure", failure);
    }

    /** Where the status monitor of repair {@code id} is. */
    static String location(long id) {
        return "/v1/repairs/" + id;
    }

    /** PostgreSQL's client gives an OffsetDateTime, H2's JDBC driver a LocalDateTime (UTC) or an OffsetDateTime. */
    static Instant instant(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof OffsetDateTime offset) {
            return offset.toInstant();
        }
        if (value instanceof LocalDateTime local) {
            return local.toInstant(ZoneOffset.UTC);
        }
        if (value instanceof Instant instant) {
            return instant;
        }
        throw new IllegalStateException("Unexpected timestamp type " + value.getClass().getName());
    }

    private static String format(Instant instant) {
        return instant == null ? null : TIMESTAMP.format(instant);
    }
}
