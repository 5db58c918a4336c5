package dev.robots.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code If-Match} on the writes and on a robot's read (RFC 9110 §13.1.1): {@code *} or a list of entity tags,
 * compared strongly with the resource's current ETag. A write evaluates it atomically with its change (under the
 * row's lock) and answers a mismatch with {@link #failed}: 412 with the current ETag, so the client can read again and
 * retry.
 *
 * <p>{@code If-None-Match} on a write is refused with a 400, as is {@code *} beside entity tags.
 * {@code If-Unmodified-Since} is refused with a 400 when it comes without {@code If-Match}: the service keeps no
 * modification dates, so it cannot evaluate it, and ignoring it (what RFC 9110 §13.1.4 prescribes for resources
 * without a date) would silently drop the protection the client asked for. Beside {@code If-Match} it is ignored, as
 * the RFC says.
 *
 * @param any  {@code If-Match: *}: any current representation matches
 * @param tags the strong entity tags listed, quotes included; weak ones never match a strong comparison
 */
public record Preconditions(boolean any, List<String> tags) {
    /**
     * The strong ETag of a robot: its version, which moves on every change of its own state (name, repairs), and not
     * on its {@code count}. The count is a statistic that every GET moves (a second later, when the flush commits):
     * an ETag with it would never match again once its own GET was counted, so a client could neither revalidate
     * (304) nor write under If-Match after reading. The README says so.
     */
    public static String robotEtag(long version) {
        return "\"" + version + "\"";
    }

    /**
     * A create has no robot yet to hold a condition against: If-Match, If-None-Match or If-Unmodified-Since on it is
     * a 400 problem, as on the other writes where it cannot be evaluated, rather than ignored.
     */
    public static void none(RoutingContext ctx) {
        for (String header : List.of("If-Match", "If-None-Match", "If-Unmodified-Since")) {
            if (ctx.request().getHeader(header) != null) {
                throw Problem.badRequest(("%s is not supported on a create: there is no robot yet to compare with. "
                        + "Send Idempotency-Key to make a retried create safe.").formatted(header));
            }
        }
    }

    /**
     * A write's If-Match, or null when it has none; a 400 problem when it cannot be read, or beside a condition a write
     * refuses.
     */
    public static Preconditions of(RoutingContext ctx) {
        if (ctx.request().getHeader("If-None-Match") != null) {
            // On a write, RFC 9110 §13.1.2 makes it a condition (`*`: only if the robot does not exist). Ignored, a
            // DELETE sent with `If-None-Match: *` would delete the robot it meant to spare.
            throw Problem.badRequest("If-None-Match is not supported on writes. Send If-Match with the ETag of the "
                    + "robot instead.");
        }
        Preconditions ifMatch = ifMatch(ctx);
        if (ifMatch == null && ctx.request().getHeader("If-Unmodified-Since") != null) {
            throw Problem.badRequest("If-Unmodified-Since is not supported: this service keeps no modification "
                    + "dates. Send If-Match with the ETag of the robot instead.");
        }
        return ifMatch;
    }

    /**
     * The request's If-Match alone, or null when it has none; a 400 problem when it cannot be read. A read
     * ({@code GET}, {@code HEAD}) evaluates it before If-None-Match (RFC 9110 §13.2.2) and answers a mismatch with
     * {@link #failed}, as a write does: the method is not performed.
     */
    public static Preconditions ifMatch(RoutingContext ctx) {
        List<String> values = ctx.request().headers().getAll("If-Match");
        if (values.isEmpty()) {
            return null;
        }
        List<String> items = entityTags(values, "If-Match");
        if (items.isEmpty()) {
            throw Problem.badRequest("If-Match must not be empty.");
        }
        boolean any = items.getFirst().equals("*");
        // Weak tags never match a strong comparison, and are left out.
        return new Preconditions(any, items.stream().filter(tag -> tag.startsWith("\"")).toList());
    }

    /**
     * A request's If-None-Match (RFC 9110 §13.1.2), or null when it has none; a 400 problem when it cannot be read,
     * as for If-Match. It was read leniently: a tag beside text that is none (`abc, "4"`) or beside `*` answered a 304,
     * an unreadable one was ignored, where the same If-Match was refused.
     *
     * @param any  {@code *}: any current representation matches
     * @param tags the entity tags listed, without W/ (a weak comparison, as RFC 9110 prescribes for If-None-Match)
     */
    public record NoneMatch(boolean any, List<String> tags) {
        /** Whether the condition is false for a resource with {@code etag} (null: one without an ETag), a 304. */
        public boolean matches(String etag) {
            return any || (etag != null && tags.contains(etag));
        }
    }

    /** The request's If-None-Match, or null when it has none; a 400 problem when it cannot be read. */
    public static NoneMatch ifNoneMatch(HttpServerRequest request) {
        if (!request.headers().contains(HttpHeaders.IF_NONE_MATCH)) {
            return null; // most reads: no list made
        }
        List<String> values = request.headers().getAll(HttpHeaders.IF_NONE_MATCH);
        List<String> items = entityTags(values, "If-None-Match");
        boolean any = !items.isEmpty() && items.getFirst().equals("*");
        return new NoneMatch(any, items.stream().map(tag -> tag.startsWith("W/") ? tag.substring(2) : tag).toList());
    }

    /**
     * The items of an If-Match or If-None-Match: {@code *} alone, or entity tags ({@code W/} kept); lines of one name
     * are one list (RFC 9110 §5.3), empty items are skipped. A tokenizer rather than a split at commas: a comma may
     * stand inside an entity tag's quotes. Anything else, or {@code *} beside tags, is a 400 problem.
     */
    private static List<String> entityTags(List<String> lines, String header) {
        var items = new ArrayList<String>(2);
        for (String line : lines) {
            int i = 0;
            int n = line.length();
            while (i < n) {
                char c = line.charAt(i);
                if (c == ' ' || c == '\t' || c == ',') {
                    i++;
                    continue;
                }
                int start = i;
                if (c == '*') {
                    i++;
                } else {
                    if (line.startsWith("W/", i)) {
                        i += 2;
                    }
                    if (i >= n || line.charAt(i) != '"') {
                        throw unreadable(header, line);
                    }
                    i++;
                    while (i < n && etagc(line.charAt(i))) {
                        i++;
                    }
                    if (i >= n || line.charAt(i) != '"') {
                        throw unreadable(header, line);
                    }
                    i++;
                }
                items.add(line.substring(start, i));
                while (i < n && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
                    i++;
                }
                if (i < n && line.charAt(i) != ',') {
                    throw unreadable(header, line);
                }
            }
        }
        if (items.size() > 1 && items.contains("*")) {
            // `*` stands alone (RFC 9110: "*" / #entity-tag): `*, "7"` is a mistake whose intent cannot be known,
            // and reading it as `*` would drop the tag the client meant to check.
            throw Problem.badRequest("%s must be * alone or a list of entity tags, not both.".formatted(header));
        }
        return items;
    }

    /** A character of an entity tag between its quotes: visible ASCII but the quote, or obs-text. */
    private static boolean etagc(char c) {
        return c == 0x21 || (c >= 0x23 && c <= 0x7E) || (c >= 0x80 && c <= 0xFF);
    }

    private static Problem unreadable(String header, String value) {
        return Problem.badRequest("%s must be * or a list of entity tags such as \"3\", not '%s'."
                .formatted(header, value.length() > 100 ? value.substring(0, 100) + "..." : value));
    }

    /**
     * Reads If-Match and If-None-Match, so that one that cannot be read is a 400 before any look-up (a missing
     * resource was a 404 first, after a query); {@link #untagged} evaluates them once the resource is found.
     */
    public static void checkReadable(RoutingContext ctx) {
        ifMatch(ctx);
        ifNoneMatch(ctx.request());
    }

    /**
     * If-Match on a resource that has no entity tag (a page of a list, a repair): only {@code *} holds (the resource
     * exists); a list of tags never matches (RFC 9110 §13.1.1), so the method is not performed and the answer is 412.
     * Ignored, a client that meant "only if it is still what I saw" was served as if it had not asked.
     * If-None-Match with {@code *} is false for a resource that exists (§13.1.2), and a GET or HEAD of it is then a
     * 304, sent here: it was a 200, where a robot's GET answered 304. Tags alone never match an untagged resource.
     *
     * @return false when the 304 was sent, and the caller has nothing left to do
     */
    public static boolean untagged(RoutingContext ctx, String what) {
        Preconditions ifMatch = ifMatch(ctx);
        if (ifMatch != null && !ifMatch.any()) {
            throw new Problem(412, "%s has no ETag, so no entity tag in If-Match can match it; send If-Match: * or none."
                    .formatted(what));
        }
        NoneMatch ifNoneMatch = ifNoneMatch(ctx.request());
        if (ifNoneMatch != null && ifNoneMatch.matches(null)) {
            ctx.response().setStatusCode(304).end();
            return false;
        }
        return true;
    }

    /** Whether a resource that exists with {@code currentEtag} meets the condition. */
    public boolean matches(String currentEtag) {
        return any || tags.contains(currentEtag);
    }

    /** The 412 of a condition that does not hold, with the resource's current ETag. */
    public static Problem failed(String currentEtag) {
        return failed(currentEtag, "the robot");
    }

    /** The 412 of a condition that does not hold for {@code what} ("this file"), with its current ETag. */
    public static Problem failed(String currentEtag, String what) {
        return new Problem(412, "If-Match does not match %s's current ETag %s: read it again and retry."
                .formatted(what, currentEtag), Map.of("ETag", currentEtag));
    }
}
