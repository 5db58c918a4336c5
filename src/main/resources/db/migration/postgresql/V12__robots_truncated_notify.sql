-- TRUNCATE fires no row or UPDATE/DELETE trigger: a `TRUNCATE robots` by hand left every instance serving its cached
-- robots until they expired. It is announced as the single item `*`: forget every cached robot.
CREATE OR REPLACE FUNCTION robots_truncated_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('robots_changed', '*');
    RETURN NULL;
END
$$;

CREATE TRIGGER robots_truncated AFTER TRUNCATE ON robots
    FOR EACH STATEMENT EXECUTE FUNCTION robots_truncated_notify();
