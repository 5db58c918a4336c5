package dev.robots.config;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;

/**
 * Checks {@code HOST}, {@code PORT} and {@code METRICS_PORT} before anything else starts: a port in use or a host that is no address of
 * this machine should stop the start with one line, before migrations change a database for a process that could
 * never serve. The servers bind for real later; a port taken in between fails there.
 */
public final class ListenAddress {
    private ListenAddress() {
    }

    public static void check(Config config) {
        InetAddress address;
        try {
            address = InetAddress.getByName(config.host());
        } catch (UnknownHostException e) {
            throw new ConfigurationError("HOST '%s' cannot be resolved to an address".formatted(config.host()));
        }
        bindable(address, "PORT", config.port(), config.host());
        if (!config.metricsOnApiPort()) {
            bindable(address, "METRICS_PORT", config.metricsPort(), config.host());
        }
    }

    private static void bindable(InetAddress address, String variable, int port, String host) {
        if (port == 0) {
            return; // any free port: nothing to be in use
        }
        try (var socket = new ServerSocket()) {
            // As the HTTP servers will bind: SO_REUSEADDR, so that connections of a stopped process in TIME_WAIT
            // do not count as the port in use.
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(address, port));
        } catch (BindException e) {
            throw new ConfigurationError("%s %d on HOST '%s' cannot be bound: %s".formatted(
                    variable, port, host, e.getMessage()));
        } catch (IOException e) {
            throw new ConfigurationError("%s %d on HOST '%s' cannot be bound (%s)".formatted(
                    variable, port, host, e.getClass().getSimpleName()));
        }
    }
}
