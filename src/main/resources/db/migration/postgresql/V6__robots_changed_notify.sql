-- Every instance keeps a read cache of robots. A change to a robot row, by any instance or by hand, is announced on
-- the channel robots_changed with the row's id (delivered on commit, once per id and transaction), so that every
-- instance drops its copy; a new row is announced as '+id'. The embedded H2 database has a single instance and needs
-- no announcement.
CREATE OR REPLACE FUNCTION robots_changed_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('robots_changed', '+' || NEW.id);
    ELSE
        PERFORM pg_notify('robots_changed', OLD.id::text);
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS robots_changed ON robots;
CREATE TRIGGER robots_changed
    AFTER INSERT OR UPDATE OR DELETE ON robots
    FOR EACH ROW EXECUTE FUNCTION robots_changed_notify();
