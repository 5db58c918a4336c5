package dev.robots.robots;

class PostgresRobotsApiTest extends RobotsApiContract {
    PostgresRobotsApiTest() {
        super("postgresql");
    }
}
