package dev.robots.db;

import dev.robots.config.Config;
import io.vertx.pgclient.PgConnectOptions;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;

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
     */
    static DatabaseTarget postgres(String url) {
        String uri = url.startsWith("jdbc:") ? url.substring("jdbc:".length()) : url;
        if (!uri.startsWith("postgres://") && !uri.startsWith("postgresql://")) {
            throw new IllegalArgumentException(
                    "DATABASE_URL must start with postgres://, postgresql:// or jdbc:postgresql://, not '"
                            + mask(url) + "'");
        }
        PgConnectOptions options = PgConnectOptions.fromUri(uri);
        var parameters = new ArrayList<String>();
        String query = URI.create(uri).getRawQuery();
        if (query != null) {
            Arrays.stream(query.split("&")).filter(p -> !p.startsWith("host=")).forEach(parameters::add);
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

    static DatabaseTarget embedded(Path dataDir) {
        // PostgreSQL mode with lower-case names lets the one SQL text (and the row mapping) serve both databases.
        // WRITE_DELAY=0: H2 otherwise writes committed changes to its file up to half a second later, and a process
        // killed meanwhile (SIGKILL, out of memory) loses writes it has answered, a repair's 202 among them.
        String url = "jdbc:h2:file:" + dataDir.toAbsolutePath().normalize().resolve("robots")
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;WRITE_DELAY=0";
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

    /** Hides the password of a URL of the form scheme://user:password@host. */
    static String mask(String url) {
        return url.replaceAll("//([^:/@]*):[^@/]*@", "//$1:***@");
    }
}
