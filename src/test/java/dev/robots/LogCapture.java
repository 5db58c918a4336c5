package dev.robots;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Collects what every logger of this JVM writes at a level or above (WARNING unless told), while open. */
public final class LogCapture extends Handler implements AutoCloseable {
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();

    public LogCapture() {
        this(Level.WARNING);
    }

    public LogCapture(Level level) {
        setLevel(level);
        Logger.getLogger("").addHandler(this);
    }

    @Override
    public void publish(LogRecord record) {
        if (isLoggable(record)) {
            records.add(record);
        }
    }

    /** Each record's message and its exception chain, as one line, for assertions. */
    public List<String> lines() {
        return records.stream().map(r -> {
            var line = new StringBuilder(String.valueOf(r.getMessage()));
            if (r.getParameters() != null) {
                for (Object parameter : r.getParameters()) {
                    line.append(" | ").append(parameter);
                }
            }
            for (Throwable t = r.getThrown(); t != null; t = t.getCause()) {
                line.append(" | ").append(t);
            }
            return line.toString();
        }).toList();
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        Logger.getLogger("").removeHandler(this);
    }
}
