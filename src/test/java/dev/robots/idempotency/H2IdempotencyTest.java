package dev.robots.idempotency;

class H2IdempotencyTest extends IdempotencyContract {
    H2IdempotencyTest() {
        super("h2");
    }
}
