package dev.robots.system;

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

    /** Flyway locations: the shared migrations, then this database's own (only where the two must differ). */
    String[] migrationLocations() {
        return new String[] {"classpath:db/migration/common", "classpath:db/migration/" + migrations};
    }
}
