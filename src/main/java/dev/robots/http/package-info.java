/**
 * What every HTTP request passes through before and after a feature's routes: message framing that a front end could
 * read otherwise refused ({@link dev.robots.http.Framing}), only canonical targets let through
 * ({@link dev.robots.http.Targets}), admission and deadlines ({@link dev.robots.http.Guards}), bearer tokens for
 * writes (each write route's own first handler), request ids, problem+json answers for every failure, and the health
 * probes.
 */
package dev.robots.http;
