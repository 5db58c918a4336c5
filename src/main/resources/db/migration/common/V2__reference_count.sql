-- Part 3 of the seed: ALTER TABLE robots ADD COLUMN count bigint default 0; here NOT NULL as well, for tables that
-- got the seed's nullable column.
ALTER TABLE robots ADD COLUMN IF NOT EXISTS count bigint DEFAULT 0;
UPDATE robots SET count = 0 WHERE count IS NULL;
ALTER TABLE robots ALTER COLUMN count SET DEFAULT 0;
ALTER TABLE robots ALTER COLUMN count SET NOT NULL;
