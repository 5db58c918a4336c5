package dev.robots.db;

import dev.robots.config.Config;
import dev.robots.config.ConfigurationError;
import io.netty.channel.unix.Errors;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.net.NetClientOptions;
import io.vertx.jdbcclient.JDBCConnectOptions;
import io.vertx.jdbcclient.JDBCPool;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.SocketException;
import java.nio.channels.ClosedChannelException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.flywaydb.core.internal.exception.sqlExceptions.FlywaySqlUnableToConnectToDbException;

/**
 * The schema and the connection pools. {@link #connect} makes a small pool for background work; {@link #migrate}
 * checks the schema's version on it and runs Flyway (JDBC, on a worker thread) only when the schema is behind.
 * {@link #newPool} makes the pool of one event loop: the reactive client for PostgreSQL, the JDBC pool for the
 * embedded H2 database.
 */
public final class Database {
    private static final Logger LOG = Logger.getLogger(Database.class.getName());

    /**
     * The highest migration version in this build (src/main/resources/db/migration); a test holds it to the files.
     * Flyway runs at start unless the database's history already reaches it.
     */
    static final int SCHEMA_VERSION = 14;

    /** Connections of the pool for background work (the count flusher). */
    private static final int BACKGROUND_POOL_SIZE = 2;

    private final Vertx vertx;
    private final DatabaseTarget target;
    private final Config config;
    private final Pool pool;
    /** Held while the embedded database is in use; null for PostgreSQL, which several instances share. */
    private final DataDirLock dataDirLock;

    private Database(Vertx vertx, DatabaseTarget target, Config config, DataDirLock dataDirLock) {
        this.vertx = vertx;
        this.target = target;
        this.config = config;
        this.dataDirLock = dataDirLock;
        this.pool = newPool(vertx, "background", BACKGROUND_POOL_SIZE);
    }

    /**
     * The database of {@code config}, its pools ready to connect; throws if the configuration names none that can be
     * used. The schema is not touched until {@link #migrate}.
     */
    public static Database connect(Vertx vertx, Config config) {
        DatabaseTarget target = DatabaseTarget.of(config);
        if (target.dialect() == Dialect.POSTGRESQL) {
            target.checkHostResolves();
            return new Database(vertx, target, config, null);
        }
        return new Database(vertx, target, config, DataDirLock.acquire(config.dataDir()));
    }

    /** Brings the schema to this build's version with Flyway (on a worker thread), unless it is there already. */
    public Future<Void> migrate() {
        return appliedVersion().compose(applied -> {
            if (applied == SCHEMA_VERSION) {
                LOG.info(() -> "Schema at version %d, this build's latest".formatted(applied));
                return Future.succeededFuture();
            }
            return vertx.executeBlocking(() -> migrate(target, config), false);
        });
    }

    /**
     * The highest migration applied, from Flyway's history table; -1 if there is none (a new or seed database) or
     * it cannot be read, and Flyway will tell. Flyway itself takes about half a second to start and load its
     * classes; an instance that starts on an up-to-date schema, as nearly all do, need not pay it.
     */
    private Future<Integer> appliedVersion() {
        // Whether the table is there is asked first: reading a table that is not there is an error the database
        // records on every new database (H2 in a robots.trace.db file beside the data, PostgreSQL in its log).
        return pool.query("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'flyway_schema_history'")
                .execute()
                .compose(tables -> {
                    if (tables.iterator().next().getLong(0) == 0) {
                        LOG.fine("No schema history to read (a new database), so Flyway runs");
                        return Future.succeededFuture(-1);
                    }
                    return pool.query("SELECT version FROM flyway_schema_history WHERE success").execute()
                            .map(Database::highestVersion);
                })
                .recover(e -> {
                    LOG.fine(() -> "No schema history to read, so Flyway runs: " + e);
                    return Future.succeededFuture(-1);
                });
    }

    private static int highestVersion(RowSet<Row> history) {
        int highest = -1;
        for (var row : history) {
            String version = row.getString(0);
            if (version != null && version.matches("[0-9]{1,9}")) {
                highest = Math.max(highest, Integer.parseInt(version));
            }
        }
        return highest;
    }

    private static Void migrate(DatabaseTarget target, Config config) {
        var flyway = Flyway.configure()
                .dataSource(target.jdbcUrl(config.dbTimeout()), target.user(), target.password())
                .locations(target.dialect().migrationLocations())
                .connectRetries(0)
                // A database the seed app created already has its robots table: adopt it, then migrate it.
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .load();
        MigrateResult result;
        try {
            result = flyway.migrate();
        } catch (FlywayException e) {
            throw refusedConnection(e, target.jdbcUrl(config.dbTimeout()).contains("statement_timeout"))
                    .orElseThrow(() -> e);
        }
        // From the migration's own result: flyway.info() queried the database again, outside the failure handling
        // above, and a statement cancelled there (a statement_timeout in ?options=) stopped the start with Flyway's
        // page of stack trace (a black-box finding).
        String version = result.targetSchemaVersion != null ? result.targetSchemaVersion : result.initialSchemaVersion;
        LOG.info(() -> "Schema at version %s (%d migrations applied now)".formatted(version, result.migrationsExecuted));
        return null;
    }

    /**
     * A connection PostgreSQL refuses is a mistake in {@code DATABASE_URL}: a database that does not exist (SQLSTATE
     * 3D000), a login it refuses (class 28), a setting in {@code ?options=} it cannot take ({@code -c
     * statement_timeout=abc}: 22023; an unknown one: 42704), whatever else it answers a new connection with; an
     * address where nothing answers (class 08) is one too, or a database that is down; and a {@code statement_timeout}
     * in {@code ?options=} too short for the migration (57014). One line that says so, with
     * PostgreSQL's own first line (it names the database, the user or the setting, never the password), instead of
     * Flyway's page of text. A failure once connected (a migration's) is not the URL's, and keeps its stack trace.
     */
    private static Optional<ConfigurationError> refusedConnection(FlywayException failure, boolean urlSetsTimeout) {
        boolean connecting = false;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            connecting |= t instanceof FlywaySqlUnableToConnectToDbException;
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String reason = sql.getMessage() == null ? sql.getSQLState() : sql.getMessage().lines().findFirst()
                        .orElse(sql.getSQLState());
                // Class 08, a connection exception: nothing listens there (a wrong port, or the database is down).
                if (sql.getSQLState().startsWith("08")) {
                    return Optional.of(new ConfigurationError("DATABASE_URL: PostgreSQL cannot be reached: " + reason));
                }
                if (connecting || sql.getSQLState().equals("3D000") || sql.getSQLState().startsWith("28")) {
                    return Optional.of(new ConfigurationError("DATABASE_URL: PostgreSQL refuses it: " + reason));
                }
                // 57014 with this reason while the URL's ?options= sets statement_timeout: shorter than the
                // schema's check or a migration takes. The URL's doing: one line with what Flyway was at, not its
                // page of stack. A timeout set elsewhere (ALTER ROLE, the server's settings) keeps Flyway's report.
                if (urlSetsTimeout && sql.getSQLState().equals("57014") && reason.contains("statement timeout")) {
                    String doing = failure.getMessage() == null ? "" : failure.getMessage().lines()
                            .filter(line -> !line.isBlank()).findFirst().map(line -> " (" + line.strip() + ")")
                            .orElse("");
                    return Optional.of(new ConfigurationError("DATABASE_URL: PostgreSQL cancelled the schema's "
                            + "migration" + doing + ": " + reason + "; the statement_timeout in ?options= must leave "
                            + "it time"));
                }
            }
        }
        return Optional.empty();
    }

    /**
     * A pool of {@code size} connections, named for its metrics. Made on an event loop (in a verticle's start), its
     * connections live on that event loop, so a request, its queries and its response never change threads.
     */
    public Pool newPool(Vertx vertx, String name, int size) {
        return newPool(vertx, name, size, null);
    }

    /**
     * A pool of {@code size} connections for requests: on PostgreSQL each connection's statements and lock waits are
     * limited to {@code REQUEST_TIMEOUT_MS} by default. A request's write and its Idempotency-Key's statements set
     * the time the request has left instead ({@link Dialect#inTransaction(Pool, WriteGate, java.util.function.Function)},
     * {@link Dialect#withinDeadline}); the reads (a robot, a page, a repair) keep this bound, so that one waiting on
     * a table lock held elsewhere ({@code LOCK TABLE robots}, an {@code ALTER TABLE}) gives its connection back
     * soon after its request's 503 rather than never. (Setting the time left before every read would cost the
     * reads' hot path a statement each.)
     */
    public Pool newRequestPool(Vertx vertx, String name, int size) {
        return newPool(vertx, name, size, config.requestTimeout());
    }

    private Pool newPool(Vertx vertx, String name, int size, java.time.Duration statementLimit) {
        int timeoutMs = (int) config.dbTimeout().toMillis();
        int socketTimeoutMs = (int) config.dbSocketTimeout().toMillis();
        var poolOptions = new PoolOptions()
                .setName(name)
                .setMaxSize(size)
                .setConnectionTimeout(timeoutMs)
                .setConnectionTimeoutUnit(TimeUnit.MILLISECONDS)
                // Idle connections leave the pool (checked every second) before the socket timeout below could
                // close one just as it is handed out.
                .setIdleTimeout(socketTimeoutMs / 2)
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
        return switch (target.dialect()) {
            case POSTGRESQL -> PgBuilder.pool()
                    .with(poolOptions)
                    // The reactive client has no query timeout: a database that stops answering would hold its
                    // connections, their queries and any login for ever, and the pool would stay empty after the
                    // database came back. A socket that has read nothing for DB_SOCKET_TIMEOUT_MS is given up
                    // instead: the driver sends Terminate and half-closes, which fails its queries once the socket
                    // closes. On a lost network path nothing acknowledges that, and TCP_USER_TIMEOUT (Linux, io_uring or epoll)
                    // makes the kernel abort the connection; a frozen server closes it when it thaws.
                    .with(transport(timeoutMs, socketTimeoutMs))
                    .connectingTo(new PgConnectOptions(target.pgOptions())
                            .setCachePreparedStatements(true)
                            .setPipeliningLimit(256)
                            // The server's side of the socket timeout above: a transaction left idle that long
                            // belongs to an instance that gave its connection up or cannot reach the database, and
                            // held its row locks for as long as that lasted (a partitioned instance's PATCH blocked
                            // the robot's writes and count flushes on every other instance: black-box finding).
                            // None of ours waits between its statements.
                            .addProperty("idle_in_transaction_session_timeout", Integer.toString(socketTimeoutMs)))
                    .using(vertx)
                    .withConnectHandler(conn -> limitStatements(conn, statementLimit))
                    .build();
            case H2 -> JDBCPool.pool(vertx,
                    new JDBCConnectOptions()
                            .setJdbcUrl(target.jdbcUrl(config.dbTimeout()))
                            .setUser(target.user())
                            .setPassword(target.password()),
                    poolOptions);
        };
    }

    /**
     * Sets a new connection's default {@code statement_timeout} and {@code lock_timeout} (none for a null
     * {@code limit}), then hands it to the pool. Set by a statement rather than as a startup parameter, which
     * connection poolers (PgBouncer) refuse. A connection that fails meanwhile is closed by the pool as any other.
     */
    private static void limitStatements(SqlConnection conn, java.time.Duration limit) {
        if (limit == null) {
            conn.close();
            return;
        }
        conn.query("SET statement_timeout = %d; SET lock_timeout = %d".formatted(limit.toMillis(), limit.toMillis()))
                .execute()
                .onFailure(e -> LOG.fine(() -> "Could not limit a new connection's statements: " + e))
                .onComplete(set -> conn.close());
    }

    private static NetClientOptions transport(int connectTimeoutMs, int socketTimeoutMs) {
        var options = new NetClientOptions();
        options.setConnectTimeout(connectTimeoutMs)
                .setReadIdleTimeout(socketTimeoutMs)
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                .setTcpUserTimeout(socketTimeoutMs);
        return options;
    }

    /** The pool for background work. */
    public Pool pool() {
        return pool;
    }

    public Dialect dialect() {
        return target.dialect();
    }

    /** Which database this is, for the startup line; never the password. */
    public String description() {
        return target.describe();
    }

    public Future<Void> close() {
        return pool.close();
    }

    /**
     * Lets another process use DATA_DIR: call it once Vert.x, and so every pool and its connections, is closed. A lock
     * that cannot be released here is released by the operating system when the process ends.
     */
    public void releaseDataDir() {
        if (dataDirLock != null) {
            try {
                dataDirLock.close();
            } catch (IOException e) {
                LOG.warning("Could not release the lock on DATA_DIR: " + e);
            }
        }
    }

    /**
     * Whether a failure means the database could not be reached (the caller should retry later) rather than a bug.
     * That includes a connection's socket failing under the driver: a peer that resets it (pg_terminate_backend while
     * a query is still being sent, a restart, a middlebox that dropped its state), a broken pipe, or TCP_USER_TIMEOUT
     * giving it up. The reactive client hands such a failure on as the transport raised it: a
     * {@link SocketException} on the JDK's sockets, a {@link Errors.NativeIoException} on the native ones (io_uring,
     * epoll).
     * Other input-output failures (a file) are no socket's, and stay bugs.
     *
     * <p>Any error PostgreSQL reports as {@code FATAL} (or {@code PANIC}) too, whatever its SQLSTATE: such an error
     * ends the session, so it is a connection refused or lost, not a statement of ours that was wrong. A database that
     * accepts no connections ({@code ALTER DATABASE ... ALLOW_CONNECTIONS false}: 55000), one dropped or renamed
     * (3D000), a login refused after a password rotation (28P01) were 500s, each logged SEVERE with a stack trace.
     *
     * <p>And a database that takes no writes now (PostgreSQL 25006 read_only_sql_transaction: a standby reached
     * during a failover, {@code default_transaction_read_only} set for maintenance; H2's 90097, a read-only file): the
     * statement was refused, so nothing was changed and the write may be sent again. Every write was a 500.
     */
    public static boolean isUnavailable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SocketException // ConnectException too
                    // A Unix socket that is not there (Cloud SQL's /cloudsql not mounted yet, its proxy restarting):
                    // Netty's epoll transport raises connect's ENOENT as a FileNotFoundException (io_uring's, as a
                    // NativeIoException). No other file is opened on the way to the database.
                    || t instanceof FileNotFoundException
                    || t instanceof Errors.NativeIoException
                    || t instanceof ClosedChannelException
                    // A connection the database closed (a terminated backend) as a query was written on it: the
                    // client shuts its output and fails the write so (seen on io_uring, a 500 in CI).
                    || t instanceof io.netty.channel.socket.ChannelOutputShutdownException
                    || t instanceof TimeoutException
                    || t instanceof ClosedConnectionException
                    || t instanceof io.netty.channel.ConnectTimeoutException
                    || t instanceof SQLTransientConnectionException
                    || t instanceof SQLNonTransientConnectionException) {
                return true;
            }
            // The SQL client reports a connection that closed under it, and a pool wait that ran out (DB_TIMEOUT_MS,
            // every connection busy or stuck, or logging in to a database that does not answer), as plain
            // VertxExceptions: "Timeout waiting for connection" for a query on the pool, a bare "Timeout" (a
            // NoStackTraceThrowable) for a connection asked of it (withConnection, withTransaction).
            if (t instanceof VertxException && t.getMessage() != null && (t.getMessage().startsWith("Connection is ")
                    || t.getMessage().startsWith("Timeout waiting for connection")
                    || t.getMessage().equals("Timeout"))) {
                return true;
            }
            if (t instanceof PgException pg && (isConnectionState(pg.getSqlState())
                    || "FATAL".equals(pg.getSeverity()) || "PANIC".equals(pg.getSeverity()))) {
                return true;
            }
            if (t instanceof SQLException sql && isConnectionState(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the database gave up a statement itself and rolled its transaction back, a moment's contention rather
     * than a bug: a statement or lock timeout (PostgreSQL 57014 query_canceled, 55P03 lock_not_available; H2's lock
     * timeout, HYT00), a deadlock or serialization failure (class 40). Nothing of the transaction is left; the client
     * should try again shortly.
     */
    public static boolean isBusy(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String state = t instanceof PgException pg ? pg.getSqlState()
                    : t instanceof SQLException sql ? sql.getSQLState() : null;
            if (state != null && (state.equals("57014") || state.equals("55P03") || state.equals("HYT00")
                    || state.startsWith("40"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * SQLSTATE class 08 (connection exception), 57P (operator intervention: shutdown, restart) and 53 (insufficient
     * resources: too_many_connections when every instance's pools together pass max_connections, out of memory, disk
     * full). None is a bug here; each passes, and the client should try again shortly.
     */
    static boolean isConnectionState(String state) {
        return state != null && (state.startsWith("08") || state.startsWith("57P") || state.startsWith("53")
                || state.equals(READ_ONLY) || state.equals(H2_READ_ONLY));
    }

    /** PostgreSQL's read_only_sql_transaction. */
    private static final String READ_ONLY = "25006";
    /** H2's DATABASE_IS_READ_ONLY. */
    private static final String H2_READ_ONLY = "90097";
}
