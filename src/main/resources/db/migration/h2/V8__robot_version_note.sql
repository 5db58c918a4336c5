-- PostgreSQL's V8 announces changes per statement (for other instances' read caches); the embedded H2 database
-- belongs to one process and announces nothing. This records, on both, what version now means.
COMMENT ON COLUMN robots.version IS 'moves on every change of the robot''s own state (name, repairs), not on count flushes';
