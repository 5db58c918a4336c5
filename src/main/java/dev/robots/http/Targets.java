package dev.robots.http;

import io.vertx.ext.web.RoutingContext;
import java.util.HexFormat;

/**
 * Only canonical request targets reach a route: the path the router matches is then the very path that was sent, so
 * nothing (a guard, a log, a metric, a proxy's rule in front of us) can see one path while another runs. Refused with
 * a 400 problem: empty segments ({@code //v1/robots}), dot segments ({@code /./}, {@code /../}), a percent-encoded
 * unreserved character ({@code /v1/%72obots}), a malformed or lower-case percent escape, and any character that RFC
 * 3986 does not allow in a path; in absolute form ({@code http://host/path}) the same rules hold for its path. A query
 * with a raw byte outside printable ASCII or a malformed percent escape is refused too, whatever the route.
 *
 * <p>One resource, one spelling: no route's path ends in {@code /}, but Vert.x Web matches a route with or without a
 * trailing slash ({@code /v1/robots/1/} ran the read and counted it, {@code POST /v1/robots/} created). A path that
 * ends in {@code /} (other than {@code /} itself) is therefore a 404 problem here, before any route, guard or body
 * handler runs: the route that would have run is then always spelled exactly as the request was.
 */
public final class Targets {
    private Targets() {
    }

    /** The first handler of every request. */
    public static void check(RoutingContext ctx) {
        String path = ctx.request().path();
        String reason = path == null ? "it has no path" : problemWith(path);
        if (reason != null) {
            Problems.send(ctx, Problem.badRequest("The request target is not in canonical form: %s.".formatted(reason)));
            return;
        }
        String query = ctx.request().query();
        int raw = query == null ? -1 : unprintable(query);
        if (raw >= 0) {
            // The decoder reads the request line byte by byte, so a raw UTF-8 'é' reached the parameters as 'Ã©' and
            // was quoted so in a 400 about the parameter's value; the byte is named instead.
            Problems.send(ctx, Problem.badRequest(("The request target's query has a byte that must be percent-encoded "
                    + "(0x%02X, at %d).").formatted((int) query.charAt(raw), raw)));
            return;
        }
        int escape = query == null ? -1 : malformedEscape(query);
        if (escape >= 0) {
            // Decided here, for every route, rather than where a route happens to read its parameters: the list's
            // parser threw (a 500), the create never read them (a 201 for a target the others refuse with a 400).
            Problems.send(ctx, Problem.badRequest(("The request target's query has a percent escape that is not two "
                    + "hexadecimal digits (at %d).").formatted(escape)));
            return;
        }
        if (path.length() > 1 && path.endsWith("/")) {
            Problems.send(ctx, Problem.notFound("There is nothing at %s: no path here ends in /, try %s."
                    .formatted(path, path.substring(0, path.length() - 1))));
            return;
        }
        ctx.next();
    }

    /** Why {@code path} is not canonical, or null when it is. */
    static String problemWith(String path) {
        if (!path.startsWith("/")) {
            return "the path must start with /";
        }
        int segmentStart = 1;
        for (int i = 1; i <= path.length(); i++) {
            if (i == path.length() || path.charAt(i) == '/') {
                // Compared in place: this runs on every request, and a substring per segment was garbage.
                int length = i - segmentStart;
                if (length == 0 && i < path.length()) {
                    return "it has an empty segment (//)";
                }
                if ((length == 1 || length == 2) && path.charAt(segmentStart) == '.'
                        && path.charAt(i - 1) == '.') {
                    return "it has a dot segment (" + path.substring(segmentStart, i) + ")";
                }
                segmentStart = i + 1;
                continue;
            }
            char c = path.charAt(i);
            if (c == '%') {
                if (i + 2 >= path.length() || !upperHex(path.charAt(i + 1)) || !upperHex(path.charAt(i + 2))) {
                    return "a percent escape is not two upper-case hexadecimal digits";
                }
                char decoded = (char) Integer.parseInt(path, i + 1, i + 3, 16);
                if (unreserved(decoded)) {
                    return "%s is percent-encoded, though it needs no escape".formatted(decoded);
                }
                i += 2;
            } else if (!unreserved(c) && "!$&'()*+,;=:@".indexOf(c) < 0) {
                return "it has a character that a path may not hold unescaped";
            }
        }
        return null;
    }

    /** Where {@code query} has a byte outside printable ASCII (the decoder gives each byte as one char), or -1. */
    static int unprintable(String query) {
        for (int i = 0; i < query.length(); i++) {
            char c = query.charAt(i);
            if (c <= ' ' || c >= 0x7F) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Where {@code query} has a {@code %} not followed by two hexadecimal digits (either case: a query's escapes are
     * decoded, not matched as the path is), or -1.
     */
    static int malformedEscape(String query) {
        for (int i = query.indexOf('%'); i >= 0; i = query.indexOf('%', i + 1)) {
            if (i + 2 >= query.length() || !HexFormat.isHexDigit(query.charAt(i + 1))
                    || !HexFormat.isHexDigit(query.charAt(i + 2))) {
                return i;
            }
        }
        return -1;
    }

    private static boolean upperHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
    }

    private static boolean unreserved(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0;
    }
}
