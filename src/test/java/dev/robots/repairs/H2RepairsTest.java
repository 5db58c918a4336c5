package dev.robots.repairs;

class H2RepairsTest extends RepairsContract {
    H2RepairsTest() {
        super("h2");
    }
}
