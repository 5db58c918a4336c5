package dev.robots.robots;

class H2WritesUnderLocksTest extends WritesUnderLocksContract {
    H2WritesUnderLocksTest() {
        super("h2");
    }
}
