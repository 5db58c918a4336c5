package dev.robots.robots;

class H2RobotInputTest extends RobotInputContract {
    H2RobotInputTest() {
        super("h2");
    }
}
