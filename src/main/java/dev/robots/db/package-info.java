/**
 * The database: which one ({@code DATABASE_URL}, or the embedded H2 file), its connection pools, the schema and its
 * migrations (Flyway), and the few places where PostgreSQL and H2 need different SQL ({@link dev.robots.db.Dialect}).
 */
package dev.robots.db;
