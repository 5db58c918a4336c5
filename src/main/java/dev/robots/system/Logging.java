package dev.robots.system;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Logs through java.util.logging (which Vert.x and Flyway use too): one line per record, on standard output. */
public final class Logging {
    /** Flyway narrates every step at INFO; our own line says which schema version is in place. */
    private static final Logger FLYWAY = Logger.getLogger("org.flywaydb");

    private Logging() {
    }

    public static void configure() {
        LogManager.getLogManager().reset();
        Handler handler = new ConsoleHandler() {
            {
                setOutputStream(System.out);
            }
        };
        handler.setFormatter(new TextFormatter());
        handler.setLevel(Level.ALL);
        Logger root = Logger.getLogger("");
        root.addHandler(handler);
        root.setLevel(Level.INFO);
        FLYWAY.setLevel(Level.WARNING);
    }

    /** {@code 2026-11-30T04:31:46.123Z INFO dev.robots.Main: message}, then the stack trace if there is one. */
    static final class TextFormatter extends Formatter {
        @Override
        public String format(LogRecord record) {
            var line = new StringBuilder(160)
                    .append(Instant.ofEpochMilli(record.getMillis()))
                    .append(' ').append(record.getLevel().getName())
                    .append(' ').append(record.getLoggerName())
                    .append(": ").append(formatMessage(record))
                    .append(System.lineSeparator());
            if (record.getThrown() != null) {
                var trace = new StringWriter();
                record.getThrown().printStackTrace(new PrintWriter(trace));
                line.append(trace);
            }
            return line.toString();
        }
    }
}
