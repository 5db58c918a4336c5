/**
 * The robots resource: its routes, strict request parsing, the repository (one SQL text for PostgreSQL and H2), the
 * read cache of each instance and the listener that keeps it coherent across instances.
 */
package dev.robots.robots;
