-- One row per applied flush of reference counts, written in the flush's own transaction. A flush whose commit
-- outcome was unknown is retried with the same id, and finds its row if the first attempt did commit.
CREATE TABLE count_flushes (
    id varchar(36) PRIMARY KEY,
    flushed_at timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX count_flushes_flushed_at ON count_flushes (flushed_at);
