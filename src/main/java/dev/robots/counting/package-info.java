/**
 * Exact reference counting: every successful retrieval is recorded in memory after its response
 * ({@link dev.robots.counting.ReferenceCounter}) and written in summed, idempotent flushes
 * ({@link dev.robots.counting.CountFlusher}).
 */
package dev.robots.counting;
