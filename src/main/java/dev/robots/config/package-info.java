/**
 * Every setting of the service, read from the environment in one place ({@link dev.robots.config.Config}), and the
 * transport its {@code IO_TRANSPORT} picks for the event loops ({@link dev.robots.config.IoTransport}).
 */
package dev.robots.config;
