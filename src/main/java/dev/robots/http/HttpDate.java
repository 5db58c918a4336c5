package dev.robots.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * HTTP dates, in the one form a sender may use (IMF-fixdate, RFC 9110 section 5.6.7): {@code Tue, 01 Dec 2026
 * 06:23:59 GMT}. java.time's {@code RFC_1123_DATE_TIME}, which Vert.x uses too, prints {@code Tue, 1 Dec 2026}: a
 * one-digit day is RFC 1123's, not IMF-fixdate's, and a strict client or cache may not read it.
 */
public final class HttpDate {
    private static final DateTimeFormatter IMF_FIXDATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM uuuu HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    private record Stamp(long second, CharSequence text) {}

    /** The last second formatted: every answer carries a Date, and many answers share a second. */
    private static volatile Stamp last = new Stamp(Long.MIN_VALUE, "");

    private HttpDate() {
    }

    /** {@code instant} as an HTTP date, to the second. */
    public static String format(Instant instant) {
        return IMF_FIXDATE.format(instant);
    }

    /**
     * Sets {@code Date} on {@code response}: an origin server with a clock must send it (RFC 9110 section 6.6.1).
     * Formatted once per second, not per answer.
     */
    public static void put(HttpServerResponse response) {
        response.headers().set(HttpHeaders.DATE, now());
    }

    static CharSequence now() {
        long second = Math.floorDiv(System.currentTimeMillis(), 1000);
        Stamp stamp = last;
        if (stamp.second() != second) {
            stamp = new Stamp(second, HttpHeaders.createOptimized(format(Instant.ofEpochSecond(second))));
            last = stamp;
        }
        return stamp.text();
    }
}
