package dev.robots.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.util.function.Function;

/**
 * The few places where PostgreSQL and the embedded H2 (in PostgreSQL mode) need different SQL. Everything else is one
 * SQL text for both, written as a Vert.x SQL template.
 */
public enum Dialect {
    POSTGRESQL("postgresql"),
    H2("h2");

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

    /**
     * Runs {@code work} in one transaction. On H2 the transaction is driven with SQL: Vert.x's JDBC pool (seen in 5.0.7)
     * leaves a connection with auto-commit off after its own commit, so every later statement on that pooled
     * connection would stay uncommitted and invisible to the others.
     */
    public <T> Future<T> inTransaction(Pool pool, Function<SqlConnection, Future<T>> work) {
        return switch (this) {
            case POSTGRESQL -> pool.withTransaction(work);
            case H2 -> pool.withConnection(conn -> conn.query("SET AUTOCOMMIT FALSE").execute()
                    .compose(begun -> work.apply(conn))
                    .compose(
                            result -> conn.query("COMMIT").execute().map(result),
                            failure -> conn.query("ROLLBACK").execute()
                                    .transform(rolledBack -> Future.<T>failedFuture(failure)))
                    .eventually(() -> conn.query("SET AUTOCOMMIT TRUE").execute()));
        };
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
