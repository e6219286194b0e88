-- Production database roles for Launchproof. Run once as a database administrator, with real
-- passwords supplied by your secret store (psql -v owner_password=... -v app_password=...).
-- The owner runs migrations; the app role owns nothing and cannot bypass row-level security.

CREATE ROLE launchproof_owner LOGIN PASSWORD :'owner_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
CREATE ROLE launchproof_app LOGIN PASSWORD :'app_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;

CREATE DATABASE launchproof OWNER launchproof_owner;
\connect launchproof
ALTER SCHEMA public OWNER TO launchproof_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- Grants to launchproof_app are made by the migrations (0002_row_level_security), including
-- default privileges for tables created later. Then:
--   DATABASE_MIGRATION_URL=postgresql://launchproof_owner:...@host/launchproof python -m app migrate
--   DATABASE_URL=postgresql://launchproof_app:...@host/launchproof python -m app serve
