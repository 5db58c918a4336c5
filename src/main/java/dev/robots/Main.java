package dev.robots;

import dev.robots.config.Config;
import dev.robots.config.ConfigurationError;
import dev.robots.observability.Logging;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

/** Reads the configuration, starts the service, and stops it gracefully on SIGTERM, SIGINT or SIGHUP. */
public final class Main {
    private static final Logger LOG = Logger.getLogger(Main.class.getName());

    private Main() {
    }

    public static void main(String[] args) {
        // Netty registers its allocator's JFR event types when it makes its first buffer, whether or not a recording
        // runs; that starts JFR's metadata machinery on the event loop: ~85 ms of a 0.5 s start (async-profiler).
        // Set before any Netty class loads; -Dio.netty.jfr.enabled=true brings the events back for a recording.
        if (System.getProperty("io.netty.jfr.enabled") == null) {
            System.setProperty("io.netty.jfr.enabled", "false");
        }
        Logging.configure(Logging.Format.of(System.getenv()));
        // Our own handlers instead of shutdown hooks: the JVM would exit with 143 after hooks, and a graceful stop
        // that wrote every count is a success (0). Installed first, so that a signal during the start still leads
        // to an orderly stop once it is done.
        // SIGHUP too (a terminal that closed, or a `kill -HUP` meant as "reload": there is nothing to reload): the
        // JVM's own handling exited 129 without the last flush, and the references counted since the one before
        // were lost. A signal ignored when the JVM started (SIGHUP under nohup) stays ignored: the JVM keeps it so.
        var signalled = new CompletableFuture<String>();
        for (String name : List.of("TERM", "INT", "HUP")) {
            sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> signalled.complete("SIG" + name));
        }
        Application app;
        try {
            Config config = Config.fromEnvironment();
            Logging.levels(config.logLevels());
            app = Application.start(config);
        } catch (ConfigurationError e) {
            // The operator's to fix, and the line says what: a stack trace would only bury it.
            fatal("Could not start: " + e.getMessage(), null);
            return;
        } catch (RuntimeException e) {
            fatal("Could not start: " + e.getMessage(), e);
            return;
        }
        LOG.info("Received " + signalled.join());
        try {
            app.stop();
            exit(0);
        } catch (Application.Unfinished e) {
            fatal(e.getMessage(), null);
        } catch (RuntimeException e) {
            fatal("Shutdown did not complete: " + e.getMessage(), e);
        }
    }

    /**
     * Says why the process exits 1, and exits. The line is written whatever LOG_LEVEL says: under {@code off} a
     * start that failed on the database exited 1 without a word, and a crash-looping instance said nothing at all.
     */
    private static void fatal(String message, Throwable cause) {
        if (!LOG.isLoggable(Level.SEVERE)) {
            LOG.setLevel(Level.SEVERE);
        }
        LOG.log(Level.SEVERE, message, cause);
        exit(1);
    }

    private static void exit(int status) {
        Logging.flush();
        System.exit(status);
    }
}
