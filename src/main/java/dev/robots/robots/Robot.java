package dev.robots.robots;

import dev.robots.http.Preconditions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** A robot as stored, and its JSON form. {@code version} moves on every change; the JSON leaves it out. */
record Robot(long id, String name, long count, Instant createdAt, long repairs, Instant repairedAt, long version) {
    static final String COLUMNS = "id, name, count, created_at, repairs, repaired_at, version";

    /** RFC 3339 in UTC with milliseconds, e.g. 2026-11-30T04:31:46.123Z. */
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSX").withZone(ZoneOffset.UTC);

    static Robot of(Row row) {
        return new Robot(
                row.getLong("id"),
                row.getString("name"),
                row.getLong("count"),
                instant(row.getValue("created_at")),
                row.getLong("repairs"),
                instant(row.getValue("repaired_at")),
                row.getLong("version"));
    }

    /**
     * PostgreSQL's client gives an OffsetDateTime; JDBC drivers may give either form. Plain instanceof tests, not a
     * pattern switch: that one's bootstrap generates a class and method handles at the first call, on the first
     * request after a cold start (-Xlog:class+load), which the AOT cache does not keep.
     */
    private static Instant instant(Object value) {
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

    /** The strong ETag of the robot: its version ({@link Preconditions#robotEtag}). */
    String etag() {
        return Preconditions.robotEtag(version);
    }

    JsonObject toJson() {
        return new JsonObject()
                .put("id", id)
                .put("name", name)
                .put("count", count)
                .put("created_at", format(createdAt))
                .put("repairs", repairs)
                .put("repaired_at", format(repairedAt));
    }

    private static String format(Instant instant) {
        return instant == null ? null : TIMESTAMP.format(instant);
    }
}
