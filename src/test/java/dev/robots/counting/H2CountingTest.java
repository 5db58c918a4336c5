package dev.robots.counting;

class H2CountingTest extends CountingContract {
    H2CountingTest() {
        super("h2");
    }
}
