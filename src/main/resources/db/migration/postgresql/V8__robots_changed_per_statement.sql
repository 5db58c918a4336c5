-- Announcements per statement, not per row (V6 sent one NOTIFY per row, which every instance received and acted on:
-- a flush of 10,000 robots was 10,000 notifications to each instance). A statement's rows are announced on the
-- channel robots_changed in a few notifications of comma-separated items, each payload under PostgreSQL's 8000-byte
-- limit, delivered on commit:
--   +ID       a new robot
--   ID        a robot whose own state changed (name, repairs, any column but count) or that was deleted
--   ID=COUNT  a robot whose count alone went up, to COUNT: cached copies stay valid and take the new count
-- A count that went down (by hand) is announced as a change. Statements by hand in psql are announced the same way.
CREATE OR REPLACE FUNCTION robots_announce(items text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    payload text;
BEGIN
    FOR payload IN
        SELECT string_agg(item, ',')
        FROM (SELECT item, sum(length(item) + 1) OVER (ORDER BY ord) / 7800 AS part
              FROM unnest(items) WITH ORDINALITY AS i(item, ord)) parts
        GROUP BY part
    LOOP
        PERFORM pg_notify('robots_changed', payload);
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION robots_inserted_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM robots_announce(ARRAY(SELECT '+' || id FROM new_rows ORDER BY id));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION robots_updated_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM robots_announce(ARRAY(
        SELECT CASE
                   WHEN n.count >= o.count AND to_jsonb(n) - 'count' = to_jsonb(o) - 'count'
                       THEN n.id || '=' || n.count
                   ELSE n.id::text
               END
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE to_jsonb(n) IS DISTINCT FROM to_jsonb(o)
        ORDER BY n.id));
    -- An UPDATE of the id itself: the old id is gone.
    PERFORM robots_announce(ARRAY(SELECT o.id::text FROM old_rows o WHERE NOT EXISTS
        (SELECT 1 FROM new_rows n WHERE n.id = o.id) ORDER BY o.id));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION robots_deleted_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM robots_announce(ARRAY(SELECT id::text FROM old_rows ORDER BY id));
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS robots_changed ON robots;
DROP FUNCTION IF EXISTS robots_changed_notify();

CREATE TRIGGER robots_inserted AFTER INSERT ON robots
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION robots_inserted_notify();
CREATE TRIGGER robots_updated AFTER UPDATE ON robots
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION robots_updated_notify();
CREATE TRIGGER robots_deleted AFTER DELETE ON robots
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION robots_deleted_notify();
