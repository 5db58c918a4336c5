package dev.robots.http;

import java.net.InetAddress;
import java.util.regex.Pattern;

/**
 * One rule for the authority a request names, whether in its {@code Host} header or in an absolute-form target
 * ({@code GET http://host/v1/robots/1}): {@code host[:port]} as RFC 3986 section 3.2 spells it, where the host is a
 * name of letters, digits and {@code -._~!$&'()*+,;=}, or an IP literal in brackets, and the port is digits up to
 * 65535. Refused: userinfo ({@code user:pass@host}; RFC 9110 section 4.2.4 says to treat it as an error, since it
 * leaks a password into logs), a percent escape (no host name needs one; Vert.x's own parser failed on it with an
 * exception and the client got no answer), an IPv6 zone, and anything else outside the grammar.
 *
 * <p>An absolute-form target replaces {@code Host} (RFC 9112 section 3.2.2), so it must be an {@code http} or
 * {@code https} URI with a host (RFC 9110 section 4.2.1: one without is invalid); its path is then checked by
 * {@link Targets} as any other. An empty {@code Host} header stays what RFC 9112 section 3.2 makes it, a client's
 * "no authority", taken as this server.
 */
final class Authorities {
    private static final Pattern ABSOLUTE = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://.*", Pattern.DOTALL);
    private static final String PORT = "the port must be a number from 0 to 65535";
    private static final Pattern IP_FUTURE = Pattern.compile("v[0-9A-Fa-f]+\\.[A-Za-z0-9\\-._~!$&'()*+,;=:]+");

    private Authorities() {
    }

    /**
     * Whether {@code target} is in absolute form ({@code scheme://...}). Every request asks, so the origin form
     * ({@code /...}) and {@code *} are told apart without a {@code Matcher} (session 7 took the regular expressions
     * off the read path: a Matcher per route tried was 17 % of a read's allocation).
     */
    static boolean absolute(String target) {
        return !target.isEmpty() && target.charAt(0) != '/' && target.charAt(0) != '*'
                && ABSOLUTE.matcher(target).matches();
    }

    /** Why the absolute-form {@code target} cannot be served, or null when its scheme and authority are good. */
    static String problemWithAbsolute(String target) {
        int colon = target.indexOf(':');
        String scheme = target.substring(0, colon);
        int start = colon + 3;
        int end = start;
        while (end < target.length() && "/?#".indexOf(target.charAt(end)) < 0) {
            end++;
        }
        String authority = target.substring(start, end);
        if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
            return "The request target's scheme '%s' is not http or https: send the path (/v1/robots/1), or an http URL."
                    .formatted(shorten(scheme));
        }
        if (authority.isEmpty()) {
            return "The request target '%s' has no host: send the path (/v1/robots/1), or http://host/v1/robots/1."
                    .formatted(shorten(target));
        }
        String reason = problemWith(authority);
        return reason == null ? null
                : "The authority '%s' of the request target is malformed: %s.".formatted(shorten(authority), reason);
    }

    /** Why the {@code Host} header {@code host} is malformed, as a sentence, or null when it is not. */
    static String problemWithHost(String host) {
        if (host.isEmpty()) {
            return null;
        }
        String reason = problemWith(host);
        return reason == null ? null
                : ("The Host header '%s' is malformed: %s; send the server's host name or address, and its port if not "
                        + "the default (Host: api.example.com).").formatted(shorten(host), reason);
    }

    /**
     * Why {@code authority} is not {@code host[:port]}, or null. The Host header of every request comes here: a name
     * with a port is read in place, without substrings or streams.
     */
    static String problemWith(String authority) {
        if (authority.indexOf('@') >= 0) {
            return "it holds a user name or password (user@host), which is never accepted";
        }
        if (authority.startsWith("[")) {
            return problemWithLiteral(authority);
        }
        int colon = authority.lastIndexOf(':');
        int hostEnd = colon < 0 ? authority.length() : colon;
        if (hostEnd == 0) {
            return "it has no host";
        }
        for (int i = 0; i < hostEnd; i++) {
            char c = authority.charAt(i);
            if (c == '%') {
                return "a host name here takes no percent escape";
            }
            if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9')
                    && "-._~!$&'()*+,;=".indexOf(c) < 0) {
                return "a host name may hold letters, digits and -._~!$&'()*+,;= only";
            }
        }
        return colon < 0 || port(authority, colon + 1) ? null : PORT;
    }

    /** Whether {@code authority} from {@code start} on is a port: no digit (the default), or up to 65535. */
    private static boolean port(String authority, int start) {
        int length = authority.length() - start;
        if (length > 5) {
            return false;
        }
        int value = 0;
        for (int i = start; i < authority.length(); i++) {
            char c = authority.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
            value = value * 10 + (c - '0');
        }
        return value <= 65535;
    }

    /** Why {@code authority}, which starts with {@code [}, is not {@code [IP literal][:port]}, or null. */
    private static String problemWithLiteral(String authority) {
        int close = authority.indexOf(']');
        if (close < 0) {
            return "an IP literal's [ is not closed by ]";
        }
        if (close + 1 < authority.length() && authority.charAt(close + 1) != ':') {
            return "only :port may follow an IP literal";
        }
        String literal = authority.substring(1, close);
        if (!IP_FUTURE.matcher(literal).matches() && !ipv6(literal)) {
            return "[%s] is not an IPv6 address".formatted(shorten(literal));
        }
        return close + 1 == authority.length() || port(authority, close + 2) ? null : PORT;
    }

    private static boolean ipv6(String literal) {
        if (literal.isEmpty() || !literal.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
            return false; // a zone (%25eth0) too: not for an HTTP authority
        }
        try {
            InetAddress.ofLiteral(literal); // parses a literal only, never a lookup; ::ffff:1.2.3.4 comes back IPv4
            return literal.indexOf(':') >= 0;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static String shorten(String sent) {
        return sent.length() <= 60 ? sent : sent.substring(0, 60) + "...";
    }
}
