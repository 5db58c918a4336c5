package dev.robots.config;

/**
 * A setting that cannot be used (a malformed value, a port in use, a data directory another process holds). Its
 * message is one line that names the variable and, unless it is a secret, its value; {@code Main} logs that line
 * alone, without a stack trace, since the fix is in the configuration, not the code.
 */
public final class ConfigurationError extends RuntimeException {
    public ConfigurationError(String message) {
        // No cause and no stack trace: a cause's message could quote the value (a password) that this line must not.
        super(message, null, false, false);
    }
}
