/**
 * Safe retries of POSTs with an {@code Idempotency-Key}: the first answer kept in the database per caller and key,
 * and replayed to a retry on any instance.
 */
package dev.robots.idempotency;
