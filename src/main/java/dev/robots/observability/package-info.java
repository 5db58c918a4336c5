/**
 * What operators read: log lines (text or Cloud Logging JSON) written off the event loops, the access log, and
 * Prometheus metrics (the service's own request metrics and 503s by cause, SQL pools, the JVM).
 */
package dev.robots.observability;
