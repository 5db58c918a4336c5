package dev.robots.robots;

class PostgresRobotInputTest extends RobotInputContract {
    PostgresRobotInputTest() {
        super("postgresql");
    }
}
