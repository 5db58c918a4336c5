package dev.robots.db;

import dev.robots.config.Config;
import dev.robots.config.ConfigurationError;
import io.vertx.pgclient.PgConnectOptions;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;

/**
 * Where the data lives, worked out from {@code DATABASE_URL} (or its absence): the reactive client's options for
 * PostgreSQL, and the JDBC URL that Flyway and the embedded pool use.
 */
record DatabaseTarget(Dialect dialect, String jdbcUrl, String user, String password, PgConnectOptions pgOptions) {

    static DatabaseTarget of(Config config) {
        return config.databaseUrl().map(DatabaseTarget::postgres).orElseGet(() -> embedded(config.dataDir()));
    }

    /**
     * Accepts {@code postgres://}, {@code postgresql://} (the seed's form) and {@code jdbc:postgresql://} URLs. A
     * {@code host} parameter that is a directory ({@code ?host=/cloudsql/PROJECT:REGION:INSTANCE}, as Cloud Run
     * mounts Cloud SQL) means the Unix socket {@code .s.PGSQL.PORT} in it, for both drivers.
     *
     * <p>The user and password are taken out here, percent-decoded (a {@code +} stays a plus), and handed to the
     * drivers apart from the URL, so that no driver message, exception or log line can quote them. The password ends
     * at the last {@code @}, so one with {@code /}, {@code ?} or {@code #} in it (what {@code openssl rand -base64}
     * makes) still works unencoded. What cannot be parsed stops the start with a line that never quotes the URL.
     */
    static DatabaseTarget postgres(String url) {
        String uri = url.startsWith("jdbc:") ? url.substring("jdbc:".length()) : url;
        int schemeEnd = uri.indexOf("://");
        String scheme = schemeEnd < 0 ? "" : uri.substring(0, schemeEnd);
        if (!scheme.equals("postgres") && !scheme.equals("postgresql")) {
            throw new ConfigurationError(
                    "DATABASE_URL must start with postgres://, postgresql:// or jdbc:postgresql://");
        }
        String rest = uri.substring(schemeEnd + 3);
        // The user and password end at the last @ before the query: one in the query is the query's (a Cloud SQL IAM
        // user, ?user=sa@project.iam), and one with no host before it at all (postgres:///db?...) has none.
        int queryStart = rest.indexOf('?');
        int at = rest.startsWith("/") ? -1 : rest.lastIndexOf('@', queryStart < 0 ? rest.length() : queryStart - 1);
        String user = null;
        String password = null;
        if (at >= 0) {
            String userInfo = rest.substring(0, at);
            int colon = userInfo.indexOf(':');
            user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon), "user");
            password = colon < 0 ? null : decode(userInfo.substring(colon + 1), "password");
            rest = rest.substring(at + 1);
        }
        // The rest holds no secret unless a query parameter does, so it is checked here and still never quoted.
        String location = "postgresql://" + rest;
        URI parsed;
        PgConnectOptions options;
        try {
            parsed = new URI(location);
        } catch (URISyntaxException e) {
            throw unparseable(e);
        }
        if (parsed.getRawFragment() != null) {
            // Called unparseable "after its user and password", which sent the reader to the wrong part.
            throw new ConfigurationError("DATABASE_URL has a # part, which a database URL does not take (a # in the "
                    + "password is written %23)");
        }
        checkPort(parsed);
        checkParameters(parsed.getRawQuery());
        String path = parsed.getRawPath();
        if (path == null || path.length() < 2 || path.indexOf('/', 1) >= 0) {
            // Without one the reactive client connects to a database called "db" (and pgjdbc to one named as the
            // user): a start failed with "database "db" does not exist", or migrated whatever was called so.
            throw new ConfigurationError("DATABASE_URL names no database: give "
                    + "postgres://USER:PASSWORD@HOST:PORT/DATABASE, the database one path segment");
        }
        try {
            options = PgConnectOptions.fromUri(location);
        } catch (RuntimeException e) {
            throw unparseable(e);
        }
        if (user != null) {
            options.setUser(user);
        }
        if (password != null) {
            options.setPassword(password);
        }
        var parameters = new ArrayList<String>();
        String query = parsed.getRawQuery();
        boolean userGiven = user != null;
        if (query != null) {
            for (String parameter : query.split("&")) {
                // user and password given as parameters leave the URL too, so no driver message can quote them. Given
                // both before the @ and as a parameter, one silently beat the other: which was meant is not known.
                if (parameter.startsWith("password=")) {
                    if (password != null) {
                        throw new ConfigurationError("DATABASE_URL gives the password twice, before the @ and as "
                                + "?password=; give it once");
                    }
                    options.setPassword(decode(parameter.substring("password=".length()), "password"));
                } else if (parameter.startsWith("user=")) {
                    if (userGiven) {
                        throw new ConfigurationError("DATABASE_URL gives the user twice, before the @ and as ?user=; "
                                + "give it once");
                    }
                    userGiven = true;
                    options.setUser(decode(parameter.substring("user=".length()), "user"));
                } else if (!parameter.startsWith("host=")) {
                    parameters.add(parameter);
                }
            }
        }
        if (!userGiven || options.getUser().isEmpty()) {
            // The reactive client would log in as "user", a role nobody named.
            throw new ConfigurationError("DATABASE_URL names no user: give postgres://USER:PASSWORD@HOST:PORT/DATABASE "
                    + "or ?user=");
        }
        String host = options.getHost();
        if (host.startsWith("/")) {
            // pgjdbc reaches a Unix socket through junixsocket's socket factory; its own host is then unused.
            parameters.add("socketFactory=org.newsclub.net.unix.AFUNIXSocketFactory$FactoryArg");
            parameters.add("socketFactoryArg=" + URLEncoder.encode(
                    host + "/.s.PGSQL." + options.getPort(), StandardCharsets.UTF_8));
            host = "localhost";
        }
        String jdbcUrl = "jdbc:postgresql://%s:%d/%s%s".formatted(host, options.getPort(), options.getDatabase(),
                parameters.isEmpty() ? "" : "?" + String.join("&", parameters));
        return new DatabaseTarget(Dialect.POSTGRESQL, jdbcUrl, options.getUser(), options.getPassword(), options);
    }

    /** The parameters a {@code DATABASE_URL} may have, as both drivers read them. */
    private static final java.util.Set<String> PARAMETERS = java.util.Set.of("host", "user", "password", "sslmode",
            "application_name", "options");
    private static final java.util.Set<String> SSL_MODES = java.util.Set.of("disable", "allow", "prefer", "require",
            "verify-ca", "verify-full");

    private static ConfigurationError unparseable(Exception e) {
        return new ConfigurationError(("DATABASE_URL cannot be parsed after its user and password: give "
                + "postgres://USER:PASSWORD@HOST:PORT/DATABASE, with any of : / ? # @ %% in the user or "
                + "password percent-encoded (%s)").formatted(e.getClass().getSimpleName()));
    }

    /** A port, if given, from 1 to 65535. */
    private static void checkPort(URI parsed) {
        String authority = parsed.getRawAuthority();
        if (authority == null) {
            return;
        }
        int close = authority.lastIndexOf(']');
        int colon = authority.lastIndexOf(':');
        if (colon <= close) {
            return;
        }
        String port = authority.substring(colon + 1);
        if (!port.isEmpty() && (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1
                || Integer.parseInt(port) > 65535)) {
            // Not quoted: in a URL whose user and password lack their '@', the password would stand there.
            throw new ConfigurationError("DATABASE_URL: the port (after HOST:) must be a number from 1 to 65535");
        }
    }

    /**
     * Every parameter known and well-formed: one the drivers do not know was ignored without a word (a
     * {@code connect_timeout=5} that limited nothing), and a bad {@code sslmode} was told as a URL that "cannot be
     * parsed". Values are never quoted (a password may be one); names are, when they look like names.
     */
    private static void checkParameters(String query) {
        if (query == null || query.isEmpty()) {
            return;
        }
        var seen = new java.util.HashSet<String>();
        for (String parameter : query.split("&", -1)) {
            int equals = parameter.indexOf('=');
            String name = equals < 0 ? parameter : parameter.substring(0, equals);
            if (equals < 0 || !name.matches("[A-Za-z_]{1,40}")) {
                throw new ConfigurationError("DATABASE_URL has a query parameter that is not NAME=VALUE; it takes "
                        + String.join(", ", PARAMETERS.stream().sorted().toList()));
            }
            if (name.equals("connect_timeout")) {
                throw new ConfigurationError("DATABASE_URL: connect_timeout is not read from the URL; set "
                        + "DB_TIMEOUT_MS (milliseconds) instead");
            }
            // A password given as a parameter with an unencoded '&' in it would otherwise have its end quoted.
            String quoted = query.contains("password=") ? "a parameter" : "the parameter '%s'".formatted(name);
            if (!PARAMETERS.contains(name)) {
                throw new ConfigurationError("DATABASE_URL has %s, which this service does not take; it takes "
                        .formatted(quoted) + String.join(", ", PARAMETERS.stream().sorted().toList()));
            }
            if (!seen.add(name)) {
                throw new ConfigurationError("DATABASE_URL gives %s twice".formatted(quoted));
            }
            String value = parameter.substring(equals + 1);
            if (value.isEmpty() && !name.equals("password")) {
                // ?host= reached a TCP host named by nothing (localhost), where a Unix socket's directory was meant.
                throw new ConfigurationError("DATABASE_URL gives %s with no value".formatted(quoted));
            }
            if (name.equals("sslmode") && !SSL_MODES.contains(value)) {
                throw new ConfigurationError("DATABASE_URL: sslmode must be one of "
                        + "disable, allow, prefer, require, verify-ca, verify-full");
            }
        }
    }

    /**
     * Percent-decodes a user or password as RFC 3986 userinfo: {@code %XX} sequences as UTF-8 bytes, everything else
     * as it is ({@code +} included, unlike form decoding). A {@code %} that starts no such sequence stops the start,
     * naming the part, never its value.
     */
    static String decode(String raw, String part) {
        // '%' and hex digits are single bytes in UTF-8, so decoding the bytes leaves every other character whole.
        byte[] in = raw.getBytes(StandardCharsets.UTF_8);
        var out = new ByteArrayOutputStream(in.length);
        for (int i = 0; i < in.length; i++) {
            if (in[i] != '%') {
                out.write(in[i]);
                continue;
            }
            int high = i + 2 < in.length ? Character.digit(in[i + 1], 16) : -1;
            int low = high < 0 ? -1 : Character.digit(in[i + 2], 16);
            if (low < 0) {
                throw new ConfigurationError(("DATABASE_URL: the %s has a %% that does not start a percent-encoding "
                        + "(%%XX); percent-encode the %s (a %% is %%25), or use a URL-safe one").formatted(part, part));
            }
            out.write(high * 16 + low);
            i += 2;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(out.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new ConfigurationError("DATABASE_URL: the %s, percent-decoded, is not valid UTF-8".formatted(part));
        }
    }

    static DatabaseTarget embedded(Path dataDir) {
        // PostgreSQL mode with lower-case names lets the one SQL text (and the row mapping) serve both databases.
        String url = "jdbc:h2:file:" + dataDir.toAbsolutePath().normalize().resolve("robots")
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH"
                // H2 writes its store up to 500 ms after a commit by default: a SIGKILL in between lost acknowledged
                // writes, and handed their ids out again. 0 writes each commit to the file before it returns.
                + ";WRITE_DELAY=0";
        return new DatabaseTarget(Dialect.H2, url, "sa", "", null);
    }

    /**
     * The JDBC URL with the driver's connect and login limits set from {@code timeout} (pgjdbc's own defaults let a
     * connection attempt to a silent server block for long), unless the URL sets them itself.
     */
    String jdbcUrl(java.time.Duration timeout) {
        if (dialect != Dialect.POSTGRESQL) {
            return jdbcUrl;
        }
        long seconds = Math.max(1, (timeout.toMillis() + 999) / 1000);
        String limits = "connectTimeout=" + seconds + "&loginTimeout=" + (seconds * 2);
        // Ours first: when the URL names one too, the driver keeps the later value, the URL's.
        int query = jdbcUrl.indexOf('?');
        return query < 0 ? jdbcUrl + "?" + limits
                : jdbcUrl.substring(0, query + 1) + limits + "&" + jdbcUrl.substring(query + 1);
    }

    /**
     * Stops the start with one line when the PostgreSQL host has no address, before any migration is tried; a host
     * that resolves but does not answer is an outage, retried by the pools, not a configuration mistake.
     */
    void checkHostResolves() {
        String host = pgOptions.getHost();
        if (host.startsWith("/")) {
            return; // a Unix socket directory
        }
        try {
            InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new ConfigurationError("DATABASE_URL names the host '%s', which cannot be resolved".formatted(host));
        }
    }

    /** For logs: the database and where it is, never the password. */
    String describe() {
        return switch (dialect) {
            case POSTGRESQL -> pgOptions.getHost().startsWith("/")
                    ? "PostgreSQL postgresql://%s@/%s?host=%s".formatted(
                            pgOptions.getUser(), pgOptions.getDatabase(), pgOptions.getHost())
                    : "PostgreSQL postgresql://%s@%s:%d/%s".formatted(
                            pgOptions.getUser(), pgOptions.getHost(), pgOptions.getPort(), pgOptions.getDatabase());
            case H2 -> "embedded H2 " + jdbcUrl.substring(0, jdbcUrl.indexOf(';'));
        };
    }

}
