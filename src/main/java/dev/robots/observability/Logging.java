package dev.robots.observability;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Logs through java.util.logging (which Vert.x and Flyway use too), one line per record on standard output: text
 * locally, or JSON that Cloud Logging reads ({@code severity}, {@code message}, {@code timestamp}, and the fields a
 * record carries, such as {@code httpRequest} and the trace). Lines are written by a thread of their own, so that an
 * event loop never waits for standard output.
 */
public final class Logging {
    /** Flyway narrates every step at INFO; our own line says which schema version is in place. */
    private static final Logger FLYWAY = Logger.getLogger("org.flywaydb");
    /**
     * Each event loop's HTTP server registers Vert.x's connection gauge under the same name, and Micrometer warns that
     * it keeps the first; nothing is lost by that.
     */
    private static final Logger MICROMETER = Logger.getLogger("io.micrometer.core.instrument.MeterRegistry");
    /**
     * Vert.x Web's router traces every request with its whole URI, query included: secrets that the access log
     * redacts ({@code ?access_token=...}). It logs nothing else below errors, so it never gets a level below debug.
     */
    private static final Logger ROUTER = Logger.getLogger("io.vertx.ext.web.impl.RouterImpl");
    /**
     * Vert.x Web's routing context logs every failed request at debug, as "RoutingContext failure (500)" whatever
     * its status, with the exception's message: our problems' details, which quote what the client sent (an
     * Idempotency-Key, an If-Match). It never gets a level below info: a failure on our side is logged with its request
     * id (Problems), a client's mistake is its answer.
     */
    private static final Logger FAILURES = Logger.getLogger("io.vertx.ext.web.RoutingContext");
    /** The least each of these loggers is held to, whatever LOG_LEVEL says. */
    private static final Map<Logger, Level> FLOORS = Map.of(ROUTER, Level.FINE, FAILURES, Level.INFO);

    /**
     * The loggers given a level by {@code LOG_LEVEL}, held here: java.util.logging keeps loggers only weakly, and one
     * that no class holds yet would be collected with its level, leaving its records at the root's.
     */
    private static final List<Logger> CONFIGURED = new CopyOnWriteArrayList<>();

    private Logging() {
    }

    public enum Format {
        TEXT, JSON;

        /**
         * JSON when {@code LOG_FORMAT=json}, or when it is unset on Cloud Run (which sets {@code K_SERVICE}); a
         * {@code K_SERVICE} set empty is unset, as every variable is.
         */
        public static Format of(Map<String, String> env) {
            String format = env.getOrDefault("LOG_FORMAT", "").strip();
            if (format.isEmpty()) {
                return onCloudRun(env) ? JSON : TEXT;
            }
            return format.equalsIgnoreCase("json") ? JSON : TEXT;
        }
    }

    /** Whether {@code K_SERVICE} is set to something: Cloud Run names the service there. */
    public static boolean onCloudRun(Map<String, String> env) {
        String service = env.get("K_SERVICE");
        return service != null && !service.isBlank();
    }

    /**
     * Structured fields for a record, passed as its only parameter: {@code LOG.log(level, message, fields(...))}.
     */
    public static Object[] fields(Map<String, Object> fields) {
        return new Object[] {fields};
    }

    public static void configure(Format format) {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        root.addHandler(new StdoutHandler(format == Format.JSON ? new JsonFormatter() : new TextFormatter()));
        root.setLevel(Level.INFO);
        FLYWAY.setLevel(Level.WARNING);
        MICROMETER.setLevel(Level.SEVERE);
    }

    /**
     * Applies {@code LOG_LEVEL} ({@code Config.logLevels()}): the root logger's level (key {@code ""}), then each named
     * logger's, which also overrides the quieter defaults {@link #configure} gives Flyway and Micrometer. Vert.x Web's
     * router stays at debug at most, whatever the levels: its trace lines quote secrets.
     */
    public static void levels(Map<String, Level> levels) {
        FLOORS.keySet().forEach(logger -> logger.setLevel(null));
        levels.forEach((name, level) -> {
            Logger logger = Logger.getLogger(name);
            logger.setLevel(level);
            CONFIGURED.add(logger);
        });
        FLOORS.forEach((logger, floor) -> {
            if (effectiveLevel(logger).intValue() < floor.intValue()) {
                logger.setLevel(floor);
            }
        });
    }

    /** The level a logger logs at: its own, or its nearest ancestor's. */
    private static Level effectiveLevel(Logger logger) {
        for (Logger at = logger; at != null; at = at.getParent()) {
            if (at.getLevel() != null) {
                return at.getLevel();
            }
        }
        return Level.INFO;
    }

    /** Waits (briefly) until every line logged so far is written; for the moment before the process exits. */
    public static void flush() {
        for (Handler handler : Logger.getLogger("").getHandlers()) {
            handler.flush();
        }
    }

    /** Cloud Logging's severity names. */
    static String severity(Level level) {
        int value = level.intValue();
        if (value >= Level.SEVERE.intValue()) {
            return "ERROR";
        }
        if (value >= Level.WARNING.intValue()) {
            return "WARNING";
        }
        if (value >= Level.INFO.intValue()) {
            return "INFO";
        }
        return "DEBUG";
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> fieldsOf(LogRecord record) {
        Object[] parameters = record.getParameters();
        return parameters != null && parameters.length == 1 && parameters[0] instanceof Map<?, ?> map
                ? (Map<String, Object>) map
                : Map.of();
    }

    private static String messageOf(Formatter formatter, LogRecord record) {
        String message = fieldsOf(record).isEmpty() ? formatter.formatMessage(record) : record.getMessage();
        if (formatter instanceof TextFormatter) {
            // A message may quote what a client sent (a path, a header): a line break or terminal escape in it would
            // forge a line of its own, or rewrite the operator's terminal. JSON escapes them itself.
            message = escapeControls(message);
        }
        if (record.getThrown() == null) {
            return message;
        }
        var trace = new StringWriter();
        record.getThrown().printStackTrace(new PrintWriter(trace));
        return message + System.lineSeparator() + trace;
    }

    /** {@code message} with every control character (C0, DEL, C1, line and paragraph separators) as {@code \\uXXXX}. */
    static String escapeControls(String message) {
        int first = 0;
        while (first < message.length() && !control(message.charAt(first))) {
            first++;
        }
        if (first == message.length()) {
            return message; // the usual case, at no cost but the scan
        }
        var escaped = new StringBuilder(message.length() + 16).append(message, 0, first);
        for (int i = first; i < message.length(); i++) {
            char c = message.charAt(i);
            if (control(c)) {
                escaped.append("\\u%04x".formatted((int) c));
            } else {
                escaped.append(c);
            }
        }
        return escaped.toString();
    }

    private static boolean control(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
    }

    /** {@code 2026-11-30T04:31:46.123Z INFO dev.robots.Main: message}, then the stack trace if there is one. */
    static final class TextFormatter extends Formatter {
        private record Stamp(long millis, String text) {}

        /** The last timestamp written: under load many lines share a millisecond (formatting showed in profiles). */
        private volatile Stamp last = new Stamp(Long.MIN_VALUE, "");

        @Override
        public String format(LogRecord record) {
            return timestamp(record.getMillis()) + " " + record.getLevel().getName() + " "
                    + record.getLoggerName() + ": " + messageOf(this, record);
        }

        private String timestamp(long millis) {
            Stamp stamp = last;
            if (stamp.millis() != millis) {
                stamp = new Stamp(millis, Instant.ofEpochMilli(millis).toString());
                last = stamp;
            }
            return stamp.text();
        }
    }

    /**
     * One JSON object per line, in the shape Cloud Logging's agent turns into a structured entry. Written with Jackson's
     * streaming generator, not Vert.x's {@code JsonObject}: Vert.x logs at debug while its Json codec initialises, and a
     * formatter that needed that codec would be called before the codec exists (at {@code LOG_LEVEL=debug} the start
     * failed with an {@code ExceptionInInitializerError}). A formatter must not depend on what logs through it.
     */
    static final class JsonFormatter extends Formatter {
        private static final JsonFactory JSON = JsonFactory.builder().build();

        @Override
        public String format(LogRecord record) {
            var line = new StringWriter(256);
            try (JsonGenerator json = JSON.createGenerator(line)) {
                json.writeStartObject();
                json.writeStringField("severity", severity(record.getLevel()));
                json.writeStringField("message", messageOf(this, record));
                json.writeStringField("timestamp", record.getInstant().toString());
                json.writeStringField("logger", record.getLoggerName());
                for (var field : fieldsOf(record).entrySet()) {
                    json.writeFieldName(field.getKey());
                    write(json, field.getValue());
                }
                json.writeEndObject();
            } catch (IOException e) {
                // Only for the signature: writing to a StringWriter does not fail.
                throw new UncheckedIOException(e);
            }
            return line.toString();
        }

        /** The values fields hold: maps of them, strings, numbers, booleans, null; anything else as its string. */
        private static void write(JsonGenerator json, Object value) throws IOException {
            switch (value) {
                case null -> json.writeNull();
                case Map<?, ?> map -> {
                    json.writeStartObject();
                    for (var entry : map.entrySet()) {
                        json.writeFieldName(String.valueOf(entry.getKey()));
                        write(json, entry.getValue());
                    }
                    json.writeEndObject();
                }
                case Integer number -> json.writeNumber(number);
                case Long number -> json.writeNumber(number);
                case Double number -> json.writeNumber(number);
                case Boolean bool -> json.writeBoolean(bool);
                default -> json.writeString(value.toString());
            }
        }
    }

    /** Formats on the caller's thread and writes on a daemon thread; a full queue drops lines and says how many. */
    static final class StdoutHandler extends Handler {
        private static final int CAPACITY = 16_384;
        /**
         * Once it has written something, the writer pauses this long before it looks at the queue again, and no new
         * line wakes it meanwhile. Waking it for every line (as before) cost an event loop a futex call per request, a
         * tenth of its CPU in a profile of the 1M-robot bench, and the writer a write call per line; now an access
         * line under load waits up to this long and lines go out in batches. A pause that found nothing puts the
         * writer to sleep, and then the next line wakes it.
         */
        private static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
        /** A backlog this long, or a warning or worse, wakes the writer even in its pause. */
        private static final int WAKE_AT = 1_024;
        /**
         * Lock-free: the event loops of a loaded instance each add a line per request, and a lock shared with the
         * writer made them wait on each other.
         */
        private final ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
        /** Lines queued and not yet written out; also what bounds the queue. */
        private final AtomicLong unwritten = new AtomicLong();
        private final AtomicLong dropped = new AtomicLong();
        // Straight to file descriptor 1 with a buffer of our own: System.out flushes on every write, which under an
        // access-logged load meant a system call per request on this thread, competing with the event loops.
        private final PrintStream out = new PrintStream(
                new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16), false,
                StandardCharsets.UTF_8);
        private final Thread writer;
        /** The writer paused and then found nothing to write: it sleeps until a line wakes it. */
        private volatile boolean asleep;

        StdoutHandler(Formatter formatter) {
            setFormatter(formatter);
            setLevel(Level.ALL);
            writer = Thread.ofPlatform().daemon().name("log-writer").start(this::write);
        }

        @Override
        public void publish(LogRecord record) {
            if (!isLoggable(record)) {
                return;
            }
            if (unwritten.incrementAndGet() > CAPACITY) {
                unwritten.decrementAndGet();
                dropped.incrementAndGet();
                return;
            }
            lines.offer(getFormatter().format(record));
            if (asleep || record.getLevel().intValue() >= Level.WARNING.intValue() || unwritten.get() >= WAKE_AT) {
                LockSupport.unpark(writer);
            }
        }

        private void write() {
            boolean wrote = false;
            while (!Thread.currentThread().isInterrupted()) {
                String line = lines.poll();
                if (line == null) {
                    out.flush();
                    if (wrote) {
                        wrote = false;
                        LockSupport.parkNanos(PAUSE_NANOS);
                        continue;
                    }
                    asleep = true;
                    // Checked again after saying so: a line added meanwhile either is seen here or wakes the park.
                    if (lines.isEmpty()) {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
                    }
                    asleep = false;
                    continue;
                }
                wrote = true;
                long lost = dropped.getAndSet(0);
                if (lost > 0) {
                    out.println(getFormatter().format(new LogRecord(Level.WARNING,
                            lost + " log lines were dropped: standard output did not keep up")));
                }
                out.println(line);
                unwritten.decrementAndGet();
            }
        }

        /** Waits up to a second for the lines queued so far to be written. */
        @Override
        public void flush() {
            LockSupport.unpark(writer);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            while (unwritten.get() > 0 && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            out.flush();
        }

        @Override
        public void close() {
            flush();
        }
    }
}
