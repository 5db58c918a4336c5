package dev.robots.robots;

import dev.robots.db.Timestamps;
import dev.robots.http.Preconditions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;

/** A robot as stored, and its JSON form. {@code version} moves on every change; the JSON leaves it out. */
record Robot(long id, String name, long count, Instant createdAt, long repairs, Instant repairedAt, long version) {
    static final String COLUMNS = "id, name, count, created_at, repairs, repaired_at, version";

    static Robot of(Row row) {
        return new Robot(
                row.getLong("id"),
                row.getString("name"),
                row.getLong("count"),
                Timestamps.instant(row.getValue("created_at")),
                row.getLong("repairs"),
                Timestamps.instant(row.getValue("repaired_at")),
                row.getLong("version"));
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
                .put("created_at", Timestamps.rfc3339(createdAt))
                .put("repairs", repairs)
                .put("repaired_at", Timestamps.rfc3339(repairedAt));
    }

}
