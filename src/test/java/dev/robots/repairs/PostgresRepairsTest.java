package dev.robots.repairs;

class PostgresRepairsTest extends RepairsContract {
    PostgresRepairsTest() {
        super("postgresql");
    }
}
