-- First start of the compose PostgreSQL only (docker-entrypoint-initdb.d, as the superuser).
-- Passwords come from the secret files through psql backquotes, so they never appear in a
-- command line, an environment variable or this repository.
\set owner_password `cat /run/secrets/postgres_owner_password`
\set app_password `cat /run/secrets/postgres_app_password`
\set backup_password `cat /run/secrets/postgres_backup_password`

-- The two roles and the database, exactly as on any production server.
\i /etc/launchproof/roles.sql

-- The backup job's role: reads everything, writes nothing. Row-level security is forced on
-- the tenant tables (even for their owner), so a complete pg_dump needs BYPASSRLS; giving it to
-- a read-only role keeps the owner and app roles unable to bypass RLS.
CREATE ROLE launchproof_backup LOGIN PASSWORD :'backup_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE BYPASSRLS;
GRANT pg_read_all_data TO launchproof_backup;
