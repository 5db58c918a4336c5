package dev.robots.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.TextStyle;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HTTP dates, in the one form a sender may use (IMF-fixdate, RFC 9110 section 5.6.7): {@code Tue, 01 Dec 2026
 * 06:23:59 GMT}. java.time's {@code RFC_1123_DATE_TIME}, which Vert.x uses too, prints {@code Tue, 1 Dec 2026}: a
 * one-digit day is RFC 1123's, not IMF-fixdate's, and a strict client or cache may not read it.
 */
public final class HttpDate {
    private static final DateTimeFormatter IMF_FIXDATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM uuuu HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    /**
     * Two of the three forms a recipient must read (RFC 9110 section 5.6.7): IMF-fixdate ({@code RFC_1123_DATE_TIME}
     * reads it, and a one-digit day) and C's asctime form {@code Sun Nov  6 08:49:37 1994}; the day's name must be
     * the date's. The third, RFC 850's, below.
     */
    private static final List<DateTimeFormatter> READABLE = List.of(
            DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC),
            DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss uuuu", Locale.US).withZone(ZoneOffset.UTC));
    /**
     * RFC 850's form, its day's name apart: the name is checked against the date once the century is known (a
     * formatter checks it against 20yy, so "Sunday, 06-Nov-94" was no date at all).
     */
    private static final Pattern RFC_850 = Pattern.compile("([A-Z][a-z]+day), (\\d{2}-[A-Z][a-z]{2}-\\d{2} "
            + "\\d{2}:\\d{2}:\\d{2}) GMT");
    private static final DateTimeFormatter RFC_850_DATE = DateTimeFormatter.ofPattern("dd-MMM-yy HH:mm:ss", Locale.US);

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
     * An HTTP date in any of the forms a recipient must read, or null when it is none of them (a condition on such a
     * date is ignored, RFC 9110 section 13.1.3). A two-digit year that would be more than 50 years ahead is the most
     * recent past year with those digits, as section 5.6.7 asks.
     */
    public static Instant parse(String value) {
        String text = value.strip();
        for (DateTimeFormatter form : READABLE) {
            try {
                return ZonedDateTime.parse(text, form).toInstant();
            } catch (DateTimeParseException notThisForm) {
                // the next form
            }
        }
        Matcher rfc850 = RFC_850.matcher(text);
        if (!rfc850.matches()) {
            return null;
        }
        try {
            LocalDateTime date = LocalDateTime.parse(rfc850.group(2), RFC_850_DATE); // 20yy
            if (date.isAfter(LocalDateTime.now(ZoneOffset.UTC).plusYears(50))) {
                date = date.minusYears(100);
            }
            boolean named = date.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.US).equals(rfc850.group(1));
            return named ? date.toInstant(ZoneOffset.UTC) : null;
        } catch (DateTimeParseException notADate) {
            return null;
        }
    }

    /**
     * Sets {@code Date} on {@code response}: an origin server with a clock must send it (RFC 9110 section 6.6.1).
     * Formatted once per second, not per answer.
     */
    public static void put(HttpServerResponse response) {
        response.headers().set(HttpHeaders.DATE, now());
    }

    /**
     * Dates every answer the router gives as its head is written, not as its request came in (RFC 9110 section 6.6.1:
     * the time the message was originated): an answer given seconds after its request (a body trickled until the
     * 408) carried the request's time, and a created robot's {@code Date} could come before its {@code created_at}.
     * Answers given without the router (a request the decoder refused) keep the date put as they came in, at once.
     * Mounted before the guards (whose deadline answers late), as they are: order -1, in the order of mounting.
     */
    public static void mount(Router router) {
        router.route().order(-1).handler(ctx -> {
            ctx.addHeadersEndHandler(head -> put(ctx.response()));
            ctx.next();
        });
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
