/**
 * Durable repairs: the routes that queue a repair and show it ({@code 202} with its status monitor), the
 * {@code repairs} table's SQL, and the worker that claims, runs and applies queued repairs on any instance, exactly
 * once.
 */
package dev.robots.repairs;
