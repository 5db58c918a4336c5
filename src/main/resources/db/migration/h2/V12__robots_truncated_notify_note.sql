-- PostgreSQL's V12 announces a TRUNCATE to other instances' read caches; the embedded H2 database belongs to one
-- process and announces nothing. This keeps both databases at the same schema version.
COMMENT ON COLUMN robots.count IS 'references counted, moved by background flushes';
