/**
 * What operators read: log lines (text or Cloud Logging JSON) written off the event loops, the access log, and
 * Prometheus metrics (the service's own request metrics, SQL pools, the JVM).
 */
package dev.robots.observability;
