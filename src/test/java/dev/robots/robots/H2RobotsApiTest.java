package dev.robots.robots;

class H2RobotsApiTest extends RobotsApiContract {
    H2RobotsApiTest() {
        super("h2");
    }
}
