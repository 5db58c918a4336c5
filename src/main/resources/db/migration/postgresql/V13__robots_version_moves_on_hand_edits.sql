-- The ETag is the robot's version, which this service's statements move on every change they make but the count.
-- A hand UPDATE in psql (a rename, a repair fixed up) left it as it was, so a client's If-None-Match with the old
-- ETag got a 304 for a robot that had changed. The database now moves it itself when a column the API shows
-- changes and the statement did not set version. The WHEN clause is evaluated without calling the function, so the
-- count flusher's updates (count only, tens of thousands of rows a second) pay one comparison of four columns per
-- row and nothing more. A migration that adds a column the API shows adds it here too (and to V11's comparison).
CREATE FUNCTION robots_version_moves() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER robots_version_moves
    BEFORE UPDATE ON robots
    FOR EACH ROW
    WHEN (NEW.version = OLD.version
          AND (OLD.name, OLD.created_at, OLD.repairs, OLD.repaired_at)
              IS DISTINCT FROM (NEW.name, NEW.created_at, NEW.repairs, NEW.repaired_at))
    EXECUTE FUNCTION robots_version_moves();
