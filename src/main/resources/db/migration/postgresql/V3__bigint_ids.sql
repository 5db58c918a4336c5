-- The seed's id is a serial (32-bit). Ids are 64-bit in the API: widen the column and its sequence so that large
-- ids compare without overflow and new ids go on past 2^31. A no-op on tables this service created.
ALTER TABLE robots ALTER COLUMN id TYPE bigint;

DO $$
DECLARE
    seq text := pg_get_serial_sequence('robots', 'id');
BEGIN
    IF seq IS NOT NULL THEN
        EXECUTE 'ALTER SEQUENCE ' || seq || ' AS bigint';
    END IF;
END
$$;
