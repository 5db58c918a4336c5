package dev.robots.db;

/**
 * A write whose COMMIT was sent and never answered (the connection failed or timed out under it): the database may
 * have committed it or not. Its answer must not say "try again", which would make a retry without an
 * Idempotency-Key a duplicate, nor release an Idempotency-Key, whose retry then finds the stored answer if there is
 * one.
 */
public final class OutcomeUnknown extends RuntimeException {
    public OutcomeUnknown(Throwable cause) {
        super("the database did not confirm the commit: " + cause, cause, false, false);
    }
}
