-- What a repair leaves on the robot.
ALTER TABLE robots ADD COLUMN repairs bigint NOT NULL DEFAULT 0;
ALTER TABLE robots ADD COLUMN repaired_at timestamp with time zone;
