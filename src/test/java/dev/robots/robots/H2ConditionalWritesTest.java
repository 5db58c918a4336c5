package dev.robots.robots;

class H2ConditionalWritesTest extends ConditionalWritesContract {
    H2ConditionalWritesTest() {
        super("h2");
    }
}
