package dev.robots.robots;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import dev.robots.http.MediaType;
import dev.robots.http.Problem;
import dev.robots.http.Problems;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Reads what a caller sends about robots (path ids, page parameters, JSON bodies) strictly, and turns every mistake
 * into a 400 problem that says what was wrong.
 */
public final class RobotRequests {
    static final int MAX_NAME_LENGTH = RobotNames.MAX_LENGTH;
    static final int MAX_PAGE_SIZE = 500;
    static final int DEFAULT_PAGE_SIZE = 50;

    /** The longest number the parser reads (Jackson's default): far past any a body could mean. */
    private static final int MAX_NUMBER_DIGITS = 1_000;

    /**
     * Without Jackson's duplicate detection: the body's only field is {@code name}, so a duplicate can only be a second
     * {@code name}, which {@link #name} refuses in a sentence of its own. Jackson's refusal read "not valid JSON", and
     * a repeated key is valid JSON (RFC 8259 4: names SHOULD be unique).
     */
    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNumberLength(MAX_NUMBER_DIGITS).build())
            .build();

    private RobotRequests() {
    }

    /** A robot id from the path: a whole number from 1 to 2^63-1. */
    public static long id(RoutingContext ctx) {
        return positiveLong(ctx.pathParam("id"), "The robot id");
    }

    public static long positiveLong(String raw, String what) {
        long value = nonNegativeLong(raw, what, 1);
        if (value == 0) {
            throw invalidNumber(what, raw, 1);
        }
        return value;
    }

    private static long nonNegativeLong(String raw, String what, long min) {
        if (!wholeNumber(raw)) {
            throw invalidNumber(what, raw, min);
        }
        try {
            return Long.parseLong(raw);
        } catch (NumberFormatException tooLarge) {
            throw invalidNumber(what, raw, min);
        }
    }

    /**
     * A whole number without sign or leading zeros, of at most 19 digits: one spelling per id, so one URL per robot.
     * Checked by hand rather than with a regular expression: a {@code Matcher} per call was garbage the young
     * collections had to go through (bench/README.md, session 7).
     */
    static boolean wholeNumber(String raw) {
        if (raw == null || raw.isEmpty() || raw.length() > 19 || (raw.charAt(0) == '0' && raw.length() > 1)) {
            return false;
        }
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * The robot id that {@code path} spells from {@code from} to its end, as {@link #id} would read it; -1 when the
     * rest is not such an id (empty, another segment after it, a leading zero, a sign, 0, past {@code Long.MAX_VALUE}):
     * {@link #wholeNumber}'s rule, read in place: the hot path's route has no parameter to read it from
     * ({@code RobotRoutes.mountRead}).
     */
    static long idAfter(String path, int from) {
        int length = path.length() - from;
        if (length <= 0 || length > 19 || path.charAt(from) == '0') {
            return -1;
        }
        long id = 0;
        for (int i = from; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            id = id * 10 + (c - '0');
        }
        return id > 0 ? id : -1; // 19 digits past Long.MAX_VALUE wrap to a negative value
    }

    private static Problem invalidNumber(String what, String raw, long min) {
        return Problem.badRequest("%s must be a whole number from %d to %d, not '%s'."
                .formatted(what, min, Long.MAX_VALUE, shorten(raw)));
    }

    /** {@code ?limit=} of a page: 1 to 500, 50 when absent. */
    public static int limit(RoutingContext ctx) {
        return limit(queryParam(ctx, "limit"));
    }

    /** {@code limit} from the decoded values of the query parameter (none, one, or more). */
    static int limit(List<String> values) {
        String raw = single(values, "limit");
        if (raw == null) {
            return DEFAULT_PAGE_SIZE;
        }
        // Spelled as after and ids are, without a sign or leading zeros: one spelling per page size (050 was taken
        // as 50 while after=050 was refused).
        if (!wholeNumber(raw) || raw.length() > 3 || Integer.parseInt(raw) < 1
                || Integer.parseInt(raw) > MAX_PAGE_SIZE) {
            throw Problem.badRequest("limit must be a whole number from 1 to %d, not '%s'."
                    .formatted(MAX_PAGE_SIZE, shorten(raw)));
        }
        return Integer.parseInt(raw);
    }

    /** {@code ?after=} of a page: the last id of the previous page, 0 (the start) when absent. */
    public static long after(RoutingContext ctx) {
        return after(queryParam(ctx, "after"));
    }

    /** {@code after} from the decoded values of the query parameter. */
    static long after(List<String> values) {
        String raw = single(values, "after");
        return raw == null ? 0 : nonNegativeLong(raw, "after", 0);
    }

    /**
     * The values of the query parameter spelled exactly {@code name}. Vert.x's parameters are a case-insensitive map,
     * so {@code ?LIMIT=1} paged by one and {@code ?Limit=1&limit=2} was refused as limit given twice, where a query's
     * names are case-sensitive (RFC 3986 6.2.2.1) and a name this API does not know is ignored. Parameters are
     * separated by {@code &} alone, as browsers, proxies and caches read a query (WHATWG URL): Netty's default also
     * split at {@code ;}, so {@code ?limit=2;after=3} paged from 3 where they saw one parameter, limit, with a value a
     * page size cannot have (a cache keyed on the parameters it knows would serve one page for another).
     */
    private static List<String> queryParam(RoutingContext ctx, String name) {
        var params = ctx.request().params(true);
        if (params.isEmpty()) {
            return List.of();
        }
        return params.entries().stream().filter(e -> e.getKey().equals(name)).map(Map.Entry::getValue).toList();
    }

    private static String single(List<String> values, String name) {
        if (values.size() > 1) {
            throw Problem.badRequest("Give %s once, not %d times.".formatted(name, values.size()));
        }
        return values.isEmpty() ? null : values.getFirst();
    }

    /** {@code robot_id} of the seed's form {@code POST /v1/robots/repair}. */
    public static long formRobotId(RoutingContext ctx) {
        // The seed's form type, with no parameter but charset=utf-8.
        if (!MediaType.isUtf8(ctx.request().headers().getAll("Content-Type"), "application/x-www-form-urlencoded")) {
            throw new Problem(415, "Send robot_id as a form, with Content-Type: application/x-www-form-urlencoded.");
        }
        requireIdentityEncoding(ctx);
        for (String field : ctx.request().formAttributes().names()) {
            if (!"robot_id".equals(field)) {
                throw Problem.badRequest("Unknown form field '%s': the form has only robot_id."
                        .formatted(shorten(field)));
            }
        }
        List<String> values = ctx.request().formAttributes().getAll("robot_id");
        if (values.size() != 1) {
            throw Problem.badRequest("Give the form field robot_id once (it was given %d times)."
                    .formatted(values.size()));
        }
        return positiveLong(values.getFirst(), "robot_id");
    }

    /**
     * For the writes that take no body ({@code DELETE}, {@code POST /v1/robots/{id}/repair}): one announced
     * ({@code Content-Length} other than 0, or {@code Transfer-Encoding}) is a 415 before any of it is read, as a body
     * of a type the route does not read is elsewhere (RFC 9110 section 15.5.16). Ignored, it was read and thrown away
     * (the repair route, within the deadline) or drained after the answer (DELETE), and a client that meant something
     * by it learnt nothing.
     *
     * <p>An {@code Expect} other than {@code 100-continue} is a 417 here too, before anything is done, as the writes
     * that read a body answer it (their BodyHandler does): these routes have none, so a {@code DELETE} or a repair sent
     * with {@code Expect: 200-ok} used to be carried out, where the README promises a 417.
     */
    public static void requireNoBody(RoutingContext ctx) {
        if (Problems.unmetExpectation(ctx)) {
            throw Problems.expectationFailed(ctx);
        }
        String length = ctx.request().getHeader("Content-Length");
        if (ctx.request().getHeader("Transfer-Encoding") != null || (length != null && !length.equals("0"))) {
            throw new Problem(415, "%s %s takes no body; send it without one.".formatted(ctx.request().method(),
                    shorten(ctx.request().path())));
        }
    }

    /** The {@code name} of a body {@code {"name": "..."}}, trimmed. */
    static String name(RoutingContext ctx) {
        requireJson(ctx);
        Buffer body = ctx.body().buffer();
        return name(body == null ? new byte[0] : body.getBytes());
    }

    /** The valid, trimmed name in a JSON body, or a 400 {@link Problem} saying what is wrong (and nothing else). */
    static String name(byte[] body) {
        return RobotNames.valid(parseName(body));
    }

    /**
     * {@code application/json}, with no parameter but {@code charset=utf-8}. Other {@code +json} types are refused
     * rather than read as if they were plain JSON: {@code application/merge-patch+json} or
     * {@code application/json-patch+json} mean something else for a PATCH, and this service implements neither.
     */
    private static void requireJson(RoutingContext ctx) {
        List<String> types = ctx.request().headers().getAll("Content-Type");
        if (!MediaType.isUtf8(types, "application/json")) {
            throw new Problem(415, "Send the robot as JSON, with Content-Type: application/json (got %s)."
                    .formatted(types.isEmpty() ? "no Content-Type" : "'" + shorten(String.join(", ", types)) + "'"));
        }
        requireIdentityEncoding(ctx);
    }

    /**
     * A body as sent, not compressed: the server does not decompress request bodies, and would otherwise read gzip
     * bytes as a malformed body. RFC 9110 section 15.5.16: 415 for a content coding not supported.
     */
    private static void requireIdentityEncoding(RoutingContext ctx) {
        for (String encoding : ctx.request().headers().getAll("Content-Encoding")) {
            for (String coding : encoding.split(",")) {
                if (!coding.isBlank() && !coding.strip().equalsIgnoreCase("identity")) {
                    throw new Problem(415, "Content-Encoding '%s' is not supported; send the body uncompressed."
                            .formatted(shorten(coding.strip())), Map.of("Accept-Encoding", "identity"));
                }
            }
        }
    }

    private static String parseName(byte[] body) {
        if (body.length == 0) {
            throw Problem.badRequest("The body is empty; send a JSON object such as {\"name\": \"R2-D2\"}.");
        }
        // Decoded strictly as UTF-8 first: JSON on the wire is UTF-8 (RFC 8259), and Jackson would otherwise guess
        // UTF-16 or UTF-32 from the first bytes.
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body))
                    .toString();
        } catch (CharacterCodingException e) {
            throw Problem.badRequest("The body is not valid UTF-8.");
        }
        if (text.startsWith("\uFEFF")) {
            // RFC 8259 8.1: a sender must not add one. Said so, where Jackson's refusal read "not valid JSON (line 1,
            // column 1)" of a body whose JSON is fine.
            throw Problem.badRequest("The body starts with a byte order mark (U+FEFF); send the JSON without one.");
        }
        try (JsonParser parser = JSON.createParser(text)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw Problem.badRequest("The body must be a JSON object such as {\"name\": \"R2-D2\"}.");
            }
            String name = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                if (!"name".equals(field)) {
                    throw Problem.badRequest("Unknown field '%s': a robot has only a name.".formatted(shorten(field)));
                }
                if (name != null) {
                    throw Problem.badRequest("The body has name more than once; send it once: {\"name\": \"R2-D2\"}.");
                }
                if (parser.nextToken() != JsonToken.VALUE_STRING) {
                    throw Problem.badRequest("name must be a JSON string.");
                }
                name = parser.getText();
            }
            if (parser.nextToken() != null) {
                throw Problem.badRequest("The body has more after its JSON object.");
            }
            if (name == null) {
                throw Problem.badRequest("name is missing; send {\"name\": \"R2-D2\"}.");
            }
            return name;
        } catch (StreamConstraintsException e) {
            // Valid JSON, past what the parser reads (a number of more than 1,000 digits): say that, not "not valid
            // JSON". No number belongs in this body anyway. (Jackson gives no location for this one.)
            throw Problem.badRequest(("The body has a number longer than %d digits; this body takes none: send "
                    + "{\"name\": \"R2-D2\"}, name a JSON string.").formatted(MAX_NUMBER_DIGITS));
        } catch (JsonProcessingException e) {
            // Where, not Jackson's words: those name its internals (JsonReadFeature settings, token classes).
            var where = e.getLocation();
            throw Problem.badRequest(where == null ? "The body is not valid JSON."
                    : "The body is not valid JSON (line %d, column %d).".formatted(where.getLineNr(),
                            where.getColumnNr()));
        } catch (IOException e) {
            throw Problem.badRequest("The body could not be read as JSON.");
        }
    }

    /** Caller input quoted in a detail, cut so a huge value does not make a huge answer. */
    private static String shorten(String raw) {
        if (raw == null) {
            return "";
        }
        return raw.length() <= 40 ? raw : raw.substring(0, 40) + "...";
    }

    /**
     * The newest robot version that the entity tags of {@code lines} (If-Match and If-None-Match) name, or -1: a
     * client that names version 5 has seen it, so a cached version 4 is stale for it (a change made through another
     * instance is heard here a moment after its commit).
     */
    static long newestTagged(List<String> lines) {
        long newest = -1;
        for (String line : lines) {
            for (String tag : line.split(",")) {
                String candidate = tag.strip();
                if (candidate.startsWith("W/")) {
                    candidate = candidate.substring(2);
                }
                int digits = candidate.length() - 2;
                if (digits < 1 || digits > 18 || candidate.charAt(0) != '"'
                        || candidate.charAt(candidate.length() - 1) != '"') {
                    continue;
                }
                long version = 0;
                for (int i = 1; i <= digits; i++) {
                    char c = candidate.charAt(i);
                    if (c < '0' || c > '9') {
                        version = -1;
                        break;
                    }
                    version = version * 10 + (c - '0');
                }
                newest = Math.max(newest, version);
            }
        }
        return newest;
    }
}
