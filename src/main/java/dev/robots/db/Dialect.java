package dev.robots.db;

import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The few places where PostgreSQL and the embedded H2 (in PostgreSQL mode) need different SQL. Everything else is one
 * SQL text for both, written as a Vert.x SQL template.
 */
public enum Dialect {
    POSTGRESQL("postgresql"),
    H2("h2");

    /** How much earlier than a request's deadline the database aborts its write. */
    private static final long DEADLINE_MARGIN_MS = 50;
    /** H2's default lock timeout, which a session gets back after a request's write. */
    private static final long H2_LOCK_TIMEOUT_MS = 1000;

    private final String migrations;

    Dialect(String migrations) {
        this.migrations = migrations;
    }

    /**
     * A data-changing statement that answers with the rows it changed. H2 has no {@code RETURNING}; its
     * {@code FINAL TABLE} gives the same rows.
     */
    public String returning(String statement, String columns) {
        return switch (this) {
            case POSTGRESQL -> statement + " RETURNING " + columns;
            case H2 -> "SELECT " + columns + " FROM FINAL TABLE (" + statement + ")";
        };
    }

    private static final Logger LOG = Logger.getLogger(Dialect.class.getName());

    /**
     * {@code conn}, leased from a pool, with a handler for its connection's errors. Without one the SQL client prints
     * such an error to stderr itself (a FATAL from pg_terminate_backend or a failover while a transaction holds the
     * connection): a bare line outside the log's format, not JSON under LOG_FORMAT=json. The statement under way fails
     * with the closed connection, and that failure is what the caller reports.
     */
    static SqlConnection quiet(SqlConnection conn) {
        return conn.exceptionHandler(e -> LOG.fine("A leased database connection failed: " + e));
    }

    /**
     * {@code Pool.withTransaction}, with the connection {@link #quiet} from its lease rather than from inside the
     * function, which runs only once BEGIN has been answered: a connection the database ended in between (all of a
     * database's sessions terminated, a failover) had no handler, and the client printed the error to stderr
     * (TerminatedConnectionsTest, one run in four).
     */
    private static <T> Future<T> quietTransaction(Pool pool, Function<SqlConnection, Future<T>> work) {
        return pool.withConnection(conn -> quiet(conn).begin().compose(tx -> work.apply(conn).compose(
                result -> tx.commit().map(result),
                failure -> tx.rollback().transform(rolledBack -> Future.<T>failedFuture(failure)))));
    }

    /**
     * Runs {@code work} in one transaction. On H2 the transaction is driven with SQL: Vert.x's JDBC pool (seen in 5.0.7)
     * leaves a connection with auto-commit off after its own commit, so every later statement on that pooled
     * connection would stay uncommitted and invisible to the others.
     */
    public <T> Future<T> inTransaction(Pool pool, Function<SqlConnection, Future<T>> work) {
        return switch (this) {
            case POSTGRESQL -> quietTransaction(pool, work);
            case H2 -> pool.withConnection(conn -> quiet(conn).query("SET AUTOCOMMIT FALSE").execute()
                    .compose(begun -> work.apply(conn))
                    .compose(
                            result -> conn.query("COMMIT").execute().map(result),
                            failure -> conn.query("ROLLBACK").execute()
                                    .transform(rolledBack -> Future.<T>failedFuture(failure)))
                    .eventually(() -> conn.query("SET AUTOCOMMIT TRUE").execute()));
        };
    }

    /**
     * Runs {@code work} in one transaction whose statements the database gives up after {@code limitMillis}, a lock
     * wait included (PostgreSQL's {@code statement_timeout} and {@code lock_timeout}, local to it; H2's session
     * {@code LOCK_TIMEOUT} is {@value #H2_LOCK_TIMEOUT_MS} ms already): for background work that must not wait without
     * bound for a row held elsewhere (a repair whose robot a {@code SELECT ... FOR UPDATE} left open in psql holds),
     * which kept a shutdown waiting past SHUTDOWN_TIMEOUT. The failure is then one {@link Database#isBusy} knows.
     */
    public <T> Future<T> inTransaction(Pool pool, long limitMillis, Function<SqlConnection, Future<T>> work) {
        return switch (this) {
            case POSTGRESQL -> quietTransaction(pool, conn -> limit(conn, limitMillis)
                    .compose(set -> work.apply(conn)));
            case H2 -> inTransaction(pool, work);
        };
    }

    /**
     * Runs {@code work} in one transaction for a request whose deadline {@code gate} holds: it does not begin once
     * the deadline has passed, the database aborts (and so rolls back) any statement still running or waiting on a
     * lock when the deadline comes (PostgreSQL's {@code statement_timeout} and {@code lock_timeout}, H2's
     * {@code LOCK_TIMEOUT}), and it rolls back instead of committing if the deadline came during its work. A failure
     * of the COMMIT itself that the database did not report (the connection failed or timed out under it) is an
     * {@link OutcomeUnknown}: the write may have committed. Every other failure means it did not. One such
     * transaction per request: the gate lets one COMMIT through.
     */
    public <T> Future<T> inTransaction(Pool pool, WriteGate gate, Function<SqlConnection, Future<T>> work) {
        return pool.withConnection(conn -> {
            quiet(conn);
            long remaining = gate.remainingMillis();
            // Room for the database's own abort to come back before the request's deadline does.
            long timeout = remaining < 0 ? 0 : remaining - DEADLINE_MARGIN_MS;
            if (gate.closed() || (remaining >= 0 && timeout < 1)) {
                gate.expire();
                return Future.failedFuture(new WriteGate.Abandoned());
            }
            return switch (this) {
                case POSTGRESQL -> conn.begin().compose(tx -> limit(conn, timeout)
                        .compose(set -> work.apply(conn))
                        .compose(
                                result -> commit(tx, gate).map(result),
                                failure -> tx.rollback().transform(rolledBack -> Future.<T>failedFuture(failure))));
                // H2's LOCK_TIMEOUT belongs to the session, and SET commits: set before the transaction, reset after.
                case H2 -> limit(conn, timeout)
                        .compose(set -> conn.query("SET AUTOCOMMIT FALSE").execute())
                        .compose(begun -> work.apply(conn))
                        .compose(
                                result -> gate.startCommit()
                                        ? conn.query("COMMIT").execute()
                                                .recover(failure -> Future.failedFuture(new OutcomeUnknown(failure)))
                                                .map(result)
                                        : conn.query("ROLLBACK").execute().transform(rolledBack ->
                                                Future.<T>failedFuture(new WriteGate.Abandoned())),
                                failure -> conn.query("ROLLBACK").execute()
                                        .transform(rolledBack -> Future.<T>failedFuture(failure)))
                        .eventually(() -> conn.query("SET AUTOCOMMIT TRUE").execute()
                                .compose(reset -> conn.query("SET LOCK_TIMEOUT " + H2_LOCK_TIMEOUT_MS).execute()));
            };
        });
    }

    /**
     * Runs {@code work}, statements a request makes outside its one write transaction (an Idempotency-Key's claim,
     * look-up, take-over and release), bounded by the request's remaining time as that transaction is: it does not
     * begin once the deadline has passed, and the database aborts a statement still running or waiting on a lock
     * just before the deadline (PostgreSQL: in a transaction of its own with {@code SET LOCAL statement_timeout} and
     * {@code lock_timeout}; H2: the session's {@code LOCK_TIMEOUT}, reset after). Without that, a statement waiting
     * on a row another session holds (a client whose COMMIT was lost, a hand {@code SELECT ... FOR UPDATE}) kept its
     * pooled connection after the request's 503, until the pool was full. Unlike
     * {@link #inTransaction(Pool, WriteGate, Function)} it does not take the gate's one COMMIT: what it commits is
     * the request's bookkeeping, not its write.
     *
     * @param minimumMillis time given however near (or past) the deadline is, for a clean-up that must still be
     *     tried after the deadline's answer (the release of a key whose write failed); 0 for none
     */
    public <T> Future<T> withinDeadline(Pool pool, WriteGate gate, long minimumMillis,
            Function<SqlConnection, Future<T>> work) {
        long remaining = gate.remainingMillis();
        long timeout = remaining < 0 ? 0 : Math.max(remaining - DEADLINE_MARGIN_MS, minimumMillis);
        if (minimumMillis == 0 && (gate.closed() || (remaining >= 0 && timeout < 1))) {
            gate.expire();
            return Future.failedFuture(new WriteGate.Abandoned());
        }
        return switch (this) {
            case POSTGRESQL -> inTransaction(pool, timeout, work);
            case H2 -> pool.withConnection(conn -> limit(quiet(conn), timeout)
                    .compose(set -> work.apply(conn))
                    .eventually(() -> timeout == 0 ? Future.succeededFuture()
                            : conn.query("SET LOCK_TIMEOUT " + H2_LOCK_TIMEOUT_MS).execute()));
        };
    }

    /**
     * Bounds the statements that follow on {@code conn} to {@code timeoutMillis} (0: no bound): on PostgreSQL for the
     * transaction under way ({@code statement_timeout} and {@code lock_timeout}, local to it); on H2 for the session
     * ({@code LOCK_TIMEOUT}, which the caller resets).
     */
    private Future<?> limit(SqlConnection conn, long timeoutMillis) {
        if (timeoutMillis == 0) {
            return Future.succeededFuture();
        }
        return switch (this) {
            case POSTGRESQL -> conn.preparedQuery("SELECT set_config('statement_timeout', $1, true), "
                    + "set_config('lock_timeout', $1, true)").execute(Tuple.of(timeoutMillis + "ms"));
            case H2 -> conn.query("SET LOCK_TIMEOUT " + timeoutMillis).execute();
        };
    }

    /**
     * The COMMIT of a PostgreSQL write, if the deadline has not come first. PostgreSQL's own refusal (an error it
     * reports, a {@link PgException}) means the transaction rolled back; any other failure leaves the outcome unknown.
     */
    private static Future<Void> commit(Transaction tx, WriteGate gate) {
        if (!gate.startCommit()) {
            return tx.rollback().transform(rolledBack -> Future.failedFuture(new WriteGate.Abandoned()));
        }
        return tx.commit().recover(failure -> Future.failedFuture(
                failure instanceof PgException ? failure : new OutcomeUnknown(failure)));
    }

    /**
     * Whether other processes may change the data, so that each instance must hear of changes to keep its read
     * cache (PostgreSQL: {@code LISTEN}, and the trigger of its migration V6). The embedded H2 file is open in one
     * process only.
     */
    public boolean sharedByInstances() {
        return this == POSTGRESQL;
    }

    /** Flyway locations: the shared migrations, then this database's own (only where the two must differ). */
    String[] migrationLocations() {
        return new String[] {"classpath:db/migration/common", "classpath:db/migration/" + migrations};
    }
}
