/**
 * What every HTTP request passes through before and after a feature's routes: admission and deadlines
 * ({@link dev.robots.http.Guards}), bearer tokens for writes, request ids, problem+json answers for every failure,
 * and the health probes.
 */
package dev.robots.http;
