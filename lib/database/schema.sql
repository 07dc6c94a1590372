-- Leak Lab demo schema: one table of sensor readings, so the workshop's
-- queries are real ("SELECT * FROM sensors ..." as in the original demo).
-- Idempotent and safe to run from several processes at once: the advisory
-- lock serialises concurrent runs. The docker compose Postgres runs this same
-- file from /docker-entrypoint-initdb.d.
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('leak-lab schema'));

CREATE TABLE IF NOT EXISTS sensors (
  id          serial PRIMARY KEY,
  sensor_id   text NOT NULL,
  kind        text NOT NULL,
  value       double precision NOT NULL,
  recorded_at timestamptz NOT NULL
);

-- 300 readings from 10 sensors, deterministic so every run sees the same data.
INSERT INTO sensors (sensor_id, kind, value, recorded_at)
SELECT format('sensor-%s', lpad((n % 10 + 1)::text, 2, '0')),
       (ARRAY['temperature', 'humidity', 'pressure'])[n % 3 + 1],
       round((20 + 10 * sin(n / 7.0))::numeric, 2),
       timestamptz '2026-01-01 00:00:00+00' + n * interval '1 minute'
FROM generate_series(1, 300) AS n
WHERE NOT EXISTS (SELECT 1 FROM sensors);

COMMIT;
