package dev.robots.config;

import dev.robots.observability.Logging;
import io.netty.util.NetUtil;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.regex.Pattern;

/**
 * Every setting of the service, read from the environment in this one place. The README's configuration table lists
 * the same variables with the same defaults.
 *
 * @param port           {@code PORT}: where HTTP is served (Cloud Run sets it); 0 picks a free port
 * @param host           {@code HOST}: the address to bind
 * @param metricsPort    {@code METRICS_PORT}: where {@code /metrics} is served, on a listener of its own so that it
 *                       stays off the public port; the same number as {@code PORT} serves it there instead; 0 picks a
 *                       free port of its own
 * @param databaseUrl    {@code DATABASE_URL}: PostgreSQL; empty means the embedded H2 database in {@code dataDir}
 * @param dataDir        {@code DATA_DIR}: where the embedded database keeps its file
 * @param dbPoolSize     {@code DB_POOL_SIZE}: database connections per instance
 * @param dbTimeout      {@code DB_TIMEOUT_MS}: connect and pool-wait limit; past it a request gets 503
 * @param dbSocketTimeout {@code DB_SOCKET_TIMEOUT_MS}: a database connection that has read nothing for this long is
 *                       closed, so connections stuck on a database that stopped answering come back to the pool
 * @param shutdownTimeout {@code SHUTDOWN_TIMEOUT}: seconds from SIGTERM to exit, inside Cloud Run's 10 s
 * @param countFlush     {@code COUNT_FLUSH_MS}: how often recorded references are written to the database
 * @param countDelay     {@code COUNT_DELAY_MS}: the seed's demonstration delay before a reference becomes visible
 * @param logLevels      {@code LOG_LEVEL}: the level of all loggers, then per-logger levels, e.g.
 *                       {@code info,dev.robots.counting=debug}; keyed by logger name, the root logger's being {@code ""}
 * @param logFormat      {@code LOG_FORMAT}: {@code text}, or {@code json} for Cloud Logging (the default on Cloud Run,
 *                       which sets {@code K_SERVICE})
 * @param accessLog      {@code ACCESS_LOG}: one log entry per request
 * @param cloudProject   {@code GOOGLE_CLOUD_PROJECT}: the project that log entries' trace names belong to
 * @param apiTokens      {@code API_TOKENS} (comma-separated) and the tokens in the file {@code API_TOKENS_FILE}: what
 *                       writes accept as {@code Authorization: Bearer}; none: see {@code BearerAuth#of}
 * @param corsOrigins    {@code CORS_ORIGINS}: browser origins allowed to call the API (comma-separated); none: no CORS
 * @param trustProxy     {@code TRUST_PROXY}: take the client address from {@code X-Forwarded-For} (behind Cloud Run's
 *                       front end, the default there)
 * @param maxConcurrentRequests {@code MAX_CONCURRENT_REQUESTS}: requests in progress per instance; past it, 503 at once
 * @param requestTimeout {@code REQUEST_TIMEOUT_MS}: the longest a request may take; past it, 503
 * @param headTimeout    {@code REQUEST_HEAD_TIMEOUT_MS}: the longest a request's head (its line and headers) may take
 *                       to arrive, from its first byte; past it, 408 and the connection closes (slowloris)
 * @param cacheMegabytes {@code CACHE_MB}: memory for the read cache of each instance, in MiB; 0 turns it off
 * @param cacheTtl       {@code CACHE_TTL_MS}: the longest a cached robot is served, should a change go unheard
 * @param repairDuration {@code REPAIR_DURATION_MS}: how long a repair takes before it is applied (a demonstration
 *                       delay, like {@code COUNT_DELAY_MS})
 * @param repairLease    {@code REPAIR_LEASE_MS}: how long a claimed repair stays with its instance without a renewal;
 *                       past it (the instance died) another instance takes it over
 * @param ioTransport    {@code IO_TRANSPORT}: {@code auto} (io_uring where the kernel allows it, else epoll),
 *                       {@code io_uring} or {@code epoll}
 */
public record Config(
        int port,
        String host,
        int metricsPort,
        Optional<String> databaseUrl,
        Path dataDir,
        int dbPoolSize,
        Duration dbTimeout,
        Duration dbSocketTimeout,
        Duration shutdownTimeout,
        Duration countFlush,
        Duration countDelay,
        Map<String, Level> logLevels,
        Logging.Format logFormat,
        boolean accessLog,
        Optional<String> cloudProject,
        List<String> apiTokens,
        List<String> corsOrigins,
        boolean trustProxy,
        int maxConcurrentRequests,
        Duration requestTimeout,
        Duration headTimeout,
        int cacheMegabytes,
        Duration cacheTtl,
        Duration repairDuration,
        Duration repairLease,
        IoTransport ioTransport) {

    /** What a log line may say of the settings: all but the tokens. */
    @Override
    public String toString() {
        return "Config[port=%d, metricsPort=%d, host=%s, database=%s, pool=%d, tokens=%d, corsOrigins=%s]".formatted(
                port, metricsPort, host, databaseUrl.isPresent() ? "PostgreSQL" : "embedded", dbPoolSize, apiTokens.size(),
                corsOrigins);
    }

    /** Whether {@code /metrics} is served on the API's port, because {@code METRICS_PORT} names that port. */
    public boolean metricsOnApiPort() {
        return metricsPort == port && port != 0;
    }

    /** The largest request body accepted; a robot is a name of at most 100 characters. */
    public static final int BODY_LIMIT_BYTES = 16 * 1024;

    public static Config fromEnvironment() {
        return from(System.getenv());
    }

    /** Reads the settings from {@code env}; a value that cannot be used stops the start with a clear message. */
    public static Config from(Map<String, String> env) {
        var reader = new Reader(env);
        return new Config(
                reader.integer("PORT", 8080, 0, 65535),
                reader.string("HOST", "0.0.0.0"),
                reader.integer("METRICS_PORT", 9090, 0, 65535),
                databaseUrl(env),
                Path.of(reader.string("DATA_DIR", "./data")),
                reader.integer("DB_POOL_SIZE", 8, 1, 1000),
                Duration.ofMillis(reader.integer("DB_TIMEOUT_MS", 2000, 100, 600_000)),
                Duration.ofMillis(reader.integer("DB_SOCKET_TIMEOUT_MS", 5000, 2000, 3_600_000)),
                Duration.ofSeconds(reader.integer("SHUTDOWN_TIMEOUT", 8, 1, 3600)),
                Duration.ofMillis(reader.integer("COUNT_FLUSH_MS", 1000, 10, 3_600_000)),
                Duration.ofMillis(reader.integer("COUNT_DELAY_MS", 0, 0, 3_600_000)),
                logLevels(reader.string("LOG_LEVEL", "info")),
                reader.choice("LOG_FORMAT", Logging.Format.of(env).name(), "text", "json")
                        .equals("json") ? Logging.Format.JSON : Logging.Format.TEXT,
                reader.choice("ACCESS_LOG", "true", "true", "false").equals("true"),
                cloudProject(reader.string("GOOGLE_CLOUD_PROJECT", null)),
                tokens(reader),
                corsOrigins(reader.string("CORS_ORIGINS", "")),
                reader.choice("TRUST_PROXY", Logging.onCloudRun(env) ? "true" : "false", "true", "false")
                        .equals("true"),
                reader.integer("MAX_CONCURRENT_REQUESTS", 1000, 1, 1_000_000),
                Duration.ofMillis(reader.integer("REQUEST_TIMEOUT_MS", 1500, 100, 600_000)),
                Duration.ofMillis(reader.integer("REQUEST_HEAD_TIMEOUT_MS", 10_000, 100, 600_000)),
                reader.integer("CACHE_MB", 16, 0, 65_536),
                Duration.ofMillis(reader.integer("CACHE_TTL_MS", 300_000, 1, 3_600_000)),
                Duration.ofMillis(reader.integer("REPAIR_DURATION_MS", 0, 0, 3_600_000)),
                Duration.ofMillis(reader.integer("REPAIR_LEASE_MS", 30_000, 300, 3_600_000)),
                IoTransport.of(reader.choice("IO_TRANSPORT", "auto", "auto", "io_uring", "epoll")));
    }

    /**
     * {@code DATABASE_URL}, or empty for the embedded database when it is unset. Set but blank stops the start, as an
     * {@code API_TOKENS} of separators does: it is a secret that reached the instance without a value (an empty
     * secret version, a placeholder the deploy did not fill), not a choice of the embedded database. Taken as unset,
     * each instance served its own empty H2 file in the container, ready, taking writes that the next restart lost.
     */
    private static Optional<String> databaseUrl(Map<String, String> env) {
        String url = env.get("DATABASE_URL");
        if (url != null && url.isBlank()) {
            throw new ConfigurationError("DATABASE_URL is set but empty; give a PostgreSQL URL, or unset it to use "
                    + "the embedded database");
        }
        return Optional.ofNullable(url).map(String::strip);
    }

    /**
     * The names {@code LOG_LEVEL} takes, as java.util.logging's levels (which Vert.x, Netty and Flyway log to);
     * {@code warning} is {@code warn} as the seed's uvicorn and Python's logging spell it (the README says so).
     */
    private static final Map<String, Level> LEVELS = Map.of(
            "trace", Level.FINEST, "debug", Level.FINE, "info", Level.INFO, "warn", Level.WARNING,
            "warning", Level.WARNING, "error", Level.SEVERE, "off", Level.OFF);

    /** A package or class name, as loggers are named. */
    private static final Pattern LOGGER = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*(?:\\.[A-Za-z_$][A-Za-z0-9_$]*)*");

    /** {@code LEVEL[,LOGGER=LEVEL...]}: a bare level is the root logger's; a logger's level covers its children. */
    static Map<String, Level> logLevels(String spec) {
        var levels = new LinkedHashMap<String, Level>();
        for (String item : spec.split(",")) {
            String entry = item.strip();
            if (entry.isEmpty()) {
                continue;
            }
            int equals = entry.indexOf('=');
            String logger = equals < 0 ? "" : entry.substring(0, equals).strip();
            String name = (equals < 0 ? entry : entry.substring(equals + 1)).strip().toLowerCase(Locale.ROOT);
            Level level = LEVELS.get(name);
            if (level == null || equals == 0) {
                throw new ConfigurationError(("LOG_LEVEL must be a level (trace, debug, info, warn or warning, error, off), "
                        + "then logger=level items, e.g. info,dev.robots.counting=debug; '%s' is not one")
                        .formatted(entry));
            }
            if (equals > 0 && !LOGGER.matcher(logger).matches()) {
                // A logger no code has (info;dev.robots=debug, a space inside) set nothing, without a word.
                throw new ConfigurationError(("LOG_LEVEL: '%s' is not a logger name (a package or class, such as "
                        + "dev.robots.counting); items are separated by commas").formatted(logger));
            }
            levels.put(logger, level);
        }
        levels.putIfAbsent("", Level.INFO);
        return Collections.unmodifiableMap(levels);
    }

    /**
     * An origin as a browser sends it in {@code Origin}: {@code http} or {@code https}, a host (a name, an IPv4 address
     * or a bracketed IPv6 one) and perhaps a port; nothing after it.
     */
    private static final Pattern ORIGIN = Pattern.compile(
            "https?://(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\\[[0-9a-f:.]+])"
                    + "(?::([0-9]{1,5}))?");

    /**
     * A Google Cloud project id (6 to 30 lower-case letters, digits and hyphens, from a letter, not ending in a
     * hyphen; an old domain-scoped one has {@code domain:} before it): it goes into every trace name of the logs, and
     * {@code my proj/../x} made names Cloud Logging cannot join with a trace.
     */
    static Optional<String> cloudProject(String project) {
        if (project != null && !PROJECT.matcher(project).matches()) {
            throw new ConfigurationError(("GOOGLE_CLOUD_PROJECT must be a project id (6 to 30 lower-case letters, "
                    + "digits and hyphens, from a letter), not '%s'").formatted(project));
        }
        return Optional.ofNullable(project);
    }

    private static final Pattern PROJECT = Pattern.compile("(?:[a-z0-9.-]{1,63}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]");

    /**
     * {@code CORS_ORIGINS}, each item an origin, lower-cased as browsers serialise it. Vert.x's CORS handler takes
     * {@code *} for every origin (SECURITY.md: never a wildcard), and {@code null} is what sandboxed frames and
     * {@code file:} pages send, which any site can produce; an item with a path never equals an {@code Origin} and is
     * a mistake. Each stops the start, naming the item. Separators alone stop it too: a deploy's
     * {@code CORS_ORIGINS=$A,$B} with both missing would have turned CORS off, where the same mistake in
     * API_TOKENS stops the start.
     */
    static List<String> corsOrigins(String listed) {
        var items = split(listed);
        if (!listed.isEmpty() && items.isEmpty()) {
            throw new ConfigurationError("CORS_ORIGINS is set but holds no origin (comma-separated "
                    + "scheme://host[:port] items); unset it to have no CORS");
        }
        var origins = new ArrayList<String>();
        for (String item : items) {
            String origin = item.toLowerCase(Locale.ROOT);
            var matcher = ORIGIN.matcher(origin);
            String serialised = matcher.matches() ? serialised(origin, matcher.group(1)) : null;
            if (serialised == null) {
                throw new ConfigurationError(("CORS_ORIGINS: '%s' is not an origin; give scheme://host[:port] items "
                        + "(http or https, no path, no wildcard, not null), comma-separated").formatted(item));
            }
            origins.add(serialised);
        }
        return List.copyOf(origins);
    }

    /**
     * {@code origin} (matched by {@link #ORIGIN}, {@code port} its port's digits or null) as a browser writes it in
     * {@code Origin}, or null if it is none: without its scheme's default port ({@code https://x:443} is sent as
     * {@code https://x}), the port's digits as a number ({@code :08080}) from 1 to 65535, and an IPv6 address in its
     * one short form ({@code [0:0::2]} is sent as {@code [::2]}, RFC 5952). Written otherwise, it would never match.
     */
    private static String serialised(String origin, String port) {
        int hostStart = origin.indexOf("://") + 3;
        String scheme = origin.substring(0, hostStart);
        String host = origin.substring(hostStart, port == null ? origin.length() : origin.length() - port.length() - 1);
        if (host.startsWith("[")) {
            byte[] address = NetUtil.createByteArrayFromIpAddressString(host.substring(1, host.length() - 1));
            if (address == null || address.length != 16) {
                return null;
            }
            host = "[" + NetUtil.bytesToIpAddress(address) + "]";
        }
        if (port == null) {
            return scheme + host;
        }
        int number = Integer.parseInt(port);
        if (number < 1 || number > 65535) {
            return null;
        }
        int defaultPort = scheme.startsWith("https:") ? 443 : 80;
        return number == defaultPort ? scheme + host : scheme + host + ":" + number;
    }

    /** The shortest bearer token accepted: shorter ones are guessable, or a mistake (a word of a comment). */
    static final int MIN_TOKEN_LENGTH = 16;

    /** The items of a comma-separated list, stripped, without blanks. */
    static List<String> split(String items) {
        return Arrays.stream(items.split(",")).map(String::strip).filter(item -> !item.isEmpty()).toList();
    }

    /**
     * {@code API_TOKENS} (comma-separated) and {@code API_TOKENS_FILE} (one token per line, or comma-separated;
     * blank lines and lines starting with {@code #} skipped). Neither set: none, and BearerAuth decides what writes
     * need. A set token file that is empty or unreadable, or an {@code API_TOKENS} of separators only ({@code ,}),
     * stops the start rather than fall back to BearerAuth's choice: whoever set it meant its tokens to be the only
     * ones.
     */
    private static List<String> tokens(Reader reader) {
        var tokens = new ArrayList<String>();
        String listed = reader.string("API_TOKENS", "");
        for (String token : split(listed)) {
            tokens.add(checkedToken(token, "API_TOKENS"));
        }
        if (!listed.isEmpty() && tokens.isEmpty()) {
            // Separators only: a deploy's API_TOKENS=$A,$B with both secrets missing, not a choice of no token.
            throw new ConfigurationError("API_TOKENS is set but holds no token (comma-separated tokens); unset it to "
                    + "have none");
        }
        String file = reader.string("API_TOKENS_FILE", null);
        if (file != null) {
            tokens.addAll(tokenFile(Path.of(file), "API_TOKENS_FILE"));
        }
        return List.copyOf(tokens);
    }

    /**
     * The tokens of a token file (one per line, or several comma-separated; blank lines and lines starting with
     * {@code #} skipped), at least one,
     * or a stop that names the file as {@code what} and says what is wrong, never quoting a token.
     */
    public static List<String> tokenFile(Path file, String what) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new ConfigurationError("%s %s cannot be read (%s)"
                    .formatted(what, file, e.getClass().getSimpleName()));
        }
        var tokens = new ArrayList<String>();
        for (int i = 0; i < lines.size(); i++) {
            // readAllLines splits on CR, LF and CRLF; strip() takes the spaces an editor may leave at either end.
            String line = lines.get(i).strip();
            if (!line.isEmpty() && !line.startsWith("#")) {
                // A line may list several, comma-separated, as API_TOKENS does: the same secret mounted as a file
                // (Cloud Run, Kubernetes) holds them so. Taken whole, "a,b" was one token that no client sends, and
                // every write was refused without a word. No token can hold a comma (API_TOKENS could not give it).
                for (String token : split(line)) {
                    tokens.add(checkedToken(token, "%s %s line %d".formatted(what, file, i + 1)));
                }
            }
        }
        if (tokens.isEmpty()) {
            throw new ConfigurationError("%s %s holds no token (one per line; # starts a comment)"
                    .formatted(what, file));
        }
        return tokens;
    }

    /** A token as given, or a stop that says where it is and what is wrong, never the token itself. */
    private static String checkedToken(String token, String where) {
        if (token.codePoints().anyMatch(c -> Character.isWhitespace(c) || Character.isSpaceChar(c))) {
            throw new ConfigurationError(("%s: a token has whitespace inside; give one token per line in the file, "
                    + "or separate tokens with commas in API_TOKENS").formatted(where));
        }
        if (token.codePoints().anyMatch(c -> c < 0x21 || c > 0x7e)) {
            throw new ConfigurationError("%s: a token must be visible ASCII characters only".formatted(where));
        }
        if (token.length() < MIN_TOKEN_LENGTH) {
            throw new ConfigurationError("%s: a token has %d characters; at least %d are needed"
                    .formatted(where, token.length(), MIN_TOKEN_LENGTH));
        }
        return token;
    }

    private record Reader(Map<String, String> env) {
        String string(String name, String fallback) {
            String value = env.get(name);
            return value == null || value.isBlank() ? fallback : value.strip();
        }

        /** A comma-separated list; empty when unset. */
        List<String> list(String name) {
            return split(string(name, ""));
        }

        String choice(String name, String fallback, String... allowed) {
            String value = string(name, fallback).toLowerCase(Locale.ROOT);
            if (!List.of(allowed).contains(value)) {
                throw new ConfigurationError("%s must be one of %s, not '%s'"
                        .formatted(name, String.join(", ", allowed), value));
            }
            return value;
        }

        int integer(String name, int fallback, int min, int max) {
            String value = string(name, null);
            if (value == null) {
                return fallback;
            }
            // ASCII digits only: Integer.parseInt also takes a '+' and other scripts' digits (PORT=+8080, PORT=٨٠٨٠
            // started on 8080), spellings no other tool reading the same variable would take alike.
            if (!value.matches("-?[0-9]+")) {
                throw outOfRange(name, min, max, value);
            }
            int parsed;
            try {
                parsed = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw outOfRange(name, min, max, value);
            }
            if (parsed < min || parsed > max) {
                throw outOfRange(name, min, max, value);
            }
            return parsed;
        }

        private static ConfigurationError outOfRange(String name, int min, int max, String value) {
            return new ConfigurationError(
                    "%s must be a whole number from %d to %d, not '%s'".formatted(name, min, max, value));
        }
    }
}
