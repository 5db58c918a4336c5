package dev.robots.http;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A media type as RFC 9110 section 8.3.1 spells it: {@code type/subtype}, then parameters, each after a {@code ;}
 * with optional white space around it, and a parameter may be empty ({@code application/json;} is the plain type).
 * Type, subtype and parameter names are case-insensitive; a parameter's value is a token or a quoted string.
 *
 * @param type       lower case
 * @param subtype    lower case
 * @param parameters by lower-case name, values unquoted
 */
public record MediaType(String type, String subtype, Map<String, String> parameters) {
    /** RFC 9110 section 5.6.2's tchar. */
    private static final String TCHARS = "!#$%&'*+-.^_`|~";

    /**
     * Whether {@code contentType}, every line of a request's {@code Content-Type}, is one media type of {@code type}
     * ({@code application/json}) with no parameter but {@code charset=utf-8}. Two lines are refused: they make one
     * list, which is no media type, and a server that read the first could disagree with one that read the last.
     */
    public static boolean isUtf8(List<String> contentType, String type) {
        if (contentType.size() != 1) {
            return false;
        }
        return parse(contentType.getFirst())
                .filter(media -> (media.type() + "/" + media.subtype()).equals(type))
                .filter(media -> media.parameters().keySet().stream().allMatch("charset"::equals))
                .filter(media -> media.parameters().getOrDefault("charset", "utf-8").equalsIgnoreCase("utf-8"))
                .isPresent();
    }

    /** {@code value} read as a media type, or empty when it is not one (or names a parameter twice). */
    public static Optional<MediaType> parse(String value) {
        var reader = new Reader(value);
        String type = reader.token();
        if (type == null || !reader.take('/')) {
            return Optional.empty();
        }
        String subtype = reader.token();
        if (subtype == null) {
            return Optional.empty();
        }
        var parameters = new LinkedHashMap<String, String>();
        while (true) {
            reader.whiteSpace();
            if (reader.atEnd()) {
                return Optional.of(new MediaType(type.toLowerCase(Locale.ROOT), subtype.toLowerCase(Locale.ROOT),
                        Map.copyOf(parameters)));
            }
            if (!reader.take(';')) {
                return Optional.empty();
            }
            reader.whiteSpace();
            if (reader.atEnd() || reader.peek() == ';') {
                continue; // an empty parameter
            }
            String name = reader.token();
            if (name == null || !reader.take('=')) {
                return Optional.empty();
            }
            String parameterValue = reader.peek() == '"' ? reader.quoted() : reader.token();
            if (parameterValue == null || parameters.put(name.toLowerCase(Locale.ROOT), parameterValue) != null) {
                return Optional.empty();
            }
        }
    }

    private static final class Reader {
        private final String text;
        private int at;

        Reader(String text) {
            this.text = text;
        }

        boolean atEnd() {
            return at == text.length();
        }

        char peek() {
            return atEnd() ? 0 : text.charAt(at);
        }

        boolean take(char c) {
            if (peek() == c && !atEnd()) {
                at++;
                return true;
            }
            return false;
        }

        void whiteSpace() {
            while (peek() == ' ' || peek() == '\t') {
                at++;
            }
        }

        /** A token (one tchar or more), or null. */
        String token() {
            int start = at;
            while (!atEnd() && tchar(text.charAt(at))) {
                at++;
            }
            return at == start ? null : text.substring(start, at);
        }

        /** A quoted string's content, quoted pairs unescaped, or null when it is malformed. */
        String quoted() {
            at++; // the opening quote
            var content = new StringBuilder();
            while (!atEnd()) {
                char c = text.charAt(at++);
                if (c == '"') {
                    return content.toString();
                }
                if (c == '\\') {
                    if (atEnd()) {
                        return null;
                    }
                    c = text.charAt(at++);
                }
                if (c != '\t' && (c < 0x20 || c == 0x7f)) {
                    return null;
                }
                content.append(c);
            }
            return null;
        }

        private static boolean tchar(char c) {
            return c < 0x80 && (Character.isLetterOrDigit(c) || TCHARS.indexOf(c) >= 0);
        }
    }
}
