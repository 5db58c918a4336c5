-- PostgreSQL's V11 makes its announcement trigger cheaper; the embedded H2 database announces nothing (one process).
-- This keeps both databases at the same schema version.
COMMENT ON TABLE robots IS 'robots; count moves in background flushes, version on every other change';
