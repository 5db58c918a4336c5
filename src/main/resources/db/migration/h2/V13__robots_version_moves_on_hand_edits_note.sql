-- PostgreSQL's V13 moves a robot's version when a hand UPDATE changes a column the API shows without setting it. The
-- embedded H2 database takes no hand edits while the service runs (DATA_DIR is locked), and every statement of the
-- service moves version itself. This keeps both databases at the same schema version.
COMMENT ON COLUMN robots.version IS 'the ETag: moved by every change but the count';
