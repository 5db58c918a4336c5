package dev.robots.robots;

class PostgresConditionalWritesTest extends ConditionalWritesContract {
    PostgresConditionalWritesTest() {
        super("postgresql");
    }
}
