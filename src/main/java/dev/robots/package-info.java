/**
 * Robots API. {@link dev.robots.Main} reads the configuration and handles signals; {@link dev.robots.Application}
 * owns everything that runs (database, listeners, flusher, one HTTP server per event loop) and stops it in order.
 */
package dev.robots;
