-- A chunk of a count flush skips the robot rows that another transaction holds locked (PostgreSQL's FOR UPDATE SKIP
-- LOCKED): their sums go with a later flush instead of stalling the chunk's other robots. The ids it skipped are kept
-- with the flush's row, so that a retry after a commit whose outcome was unknown, which finds the row and applies
-- nothing, still knows which sums were not written. NULL: none was skipped (always so on the embedded H2 database).
ALTER TABLE count_flushes ADD COLUMN skipped BIGINT ARRAY;
