#!/usr/bin/env bash
# Run once by the postgres image's entrypoint, on the first start (an empty data directory),
# as the superuser POSTGRES_USER against POSTGRES_DB: create the role perpbot connects as.
#
# perpbot_app may log in and owns the database and its `public` schema (so migrations create
# and alter every table as that role), and nothing else: no superuser, no CREATEDB, no
# CREATEROLE, no replication, no connection to the other databases of the server.
# Its password comes from PERPBOT_DB_PASSWORD through psql's \getenv: it is never on a
# command line.
set -euo pipefail
: "${PERPBOT_DB_PASSWORD:?set PERPBOT_DB_PASSWORD: the password of the role perpbot_app}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
\getenv app_password PERPBOT_DB_PASSWORD
CREATE ROLE perpbot_app LOGIN PASSWORD :'app_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER DATABASE :"DBNAME" OWNER TO perpbot_app;
ALTER SCHEMA public OWNER TO perpbot_app;
REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1 FROM PUBLIC;
SQL
echo "perpbot: role perpbot_app owns database $POSTGRES_DB"
