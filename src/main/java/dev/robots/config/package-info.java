/** Every setting of the service, read from the environment in one place ({@link dev.robots.config.Config}). */
package dev.robots.config;
