package dev.robots.db;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The one write transaction of a request, as its deadline sees it. A write's answer may say "try again" only if the
 * write certainly did not happen, and a transaction certainly does not commit as long as its COMMIT has not been
 * sent. So the deadline {@link #expire}s the gate: if the COMMIT was not sent yet, it never will be (the transaction
 * rolls back when its work returns) and the request can be answered 503 at once; if it was, the outcome is for the
 * database to tell, and the deadline waits for it. {@link Dialect#inTransaction(io.vertx.sqlclient.Pool, WriteGate,
 * java.util.function.Function)} asks the gate before it begins and before it commits, and gives the database the
 * time that is left ({@link #remainingMillis}) as its own statement and lock timeouts, so that a write stuck behind a
 * lock is aborted (rolled back) by the database before the deadline comes.
 */
public final class WriteGate {
    /** A gate without deadline: for writes that no request waits on. */
    private static final long NO_DEADLINE = Long.MAX_VALUE;

    private enum State { OPEN, COMMITTING, CLOSED }

    private final long deadlineNanos;
    private final AtomicReference<State> state = new AtomicReference<>(State.OPEN);

    private WriteGate(long deadlineNanos) {
        this.deadlineNanos = deadlineNanos;
    }

    /** The gate of a request that must be answered within {@code timeoutMillis} from now. */
    public static WriteGate within(long timeoutMillis) {
        return new WriteGate(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis));
    }

    /** A gate that never expires. */
    public static WriteGate unbounded() {
        return new WriteGate(NO_DEADLINE);
    }

    /**
     * The deadline has come: true when the write certainly never commits now (its COMMIT was not sent, and from now
     * on will not be), false when its COMMIT is on its way and only the database knows the outcome.
     */
    public boolean expire() {
        return state.compareAndSet(State.OPEN, State.CLOSED) || state.get() == State.CLOSED;
    }

    /** Whether the deadline closed the gate before the COMMIT: the write must not begin, or must roll back. */
    boolean closed() {
        return state.get() == State.CLOSED;
    }

    /** Claims the right to send the COMMIT; false when the deadline came first and the write must roll back. */
    boolean startCommit() {
        return state.compareAndSet(State.OPEN, State.COMMITTING);
    }

    /** Milliseconds left before the deadline, or -1 for a gate without one. */
    long remainingMillis() {
        if (deadlineNanos == NO_DEADLINE) {
            return -1;
        }
        return Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
    }

    /** The write did not happen and never will: its deadline came before its COMMIT was sent, or too soon to begin. */
    public static final class Abandoned extends RuntimeException {
        Abandoned() {
            super("the request's deadline came before the write could commit; it was rolled back", null, false, false);
        }
    }
}
