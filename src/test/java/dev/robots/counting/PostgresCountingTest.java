package dev.robots.counting;

class PostgresCountingTest extends CountingContract {
    PostgresCountingTest() {
        super("postgresql");
    }
}
