package dev.robots.db;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** Timestamps as the two drivers give them, and as the API writes them. */
public final class Timestamps {
    /** RFC 3339 in UTC with milliseconds, e.g. 2026-11-30T04:31:46.123Z. */
    private static final DateTimeFormatter RFC_3339 =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSX").withZone(ZoneOffset.UTC);

    private Timestamps() {
    }

    /**
     * A {@code timestamp with time zone} column's value: PostgreSQL's client gives an OffsetDateTime, H2's JDBC driver
     * a LocalDateTime (UTC) or an OffsetDateTime; null stays null. Plain instanceof tests, not a pattern switch: that
     * one's bootstrap generates a class and method handles at the first call, on the first request after a cold
     * start (-Xlog:class+load), which the AOT cache does not keep.
     */
    public static Instant instant(Object value) {
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

    /** {@code instant} as the API writes times (RFC 3339, UTC, milliseconds); null stays null. */
    public static String rfc3339(Instant instant) {
        return instant == null ? null : RFC_3339.format(instant);
    }
}
