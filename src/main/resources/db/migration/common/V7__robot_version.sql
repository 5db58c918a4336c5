-- Moves on every change to a robot (by this service's statements), so that a read cache can tell which of two
-- answers for the same robot is the newer one and never serve the older after the newer.
ALTER TABLE robots ADD COLUMN version bigint NOT NULL DEFAULT 0;
