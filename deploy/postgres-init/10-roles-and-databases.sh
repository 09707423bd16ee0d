#!/bin/sh
# Runs once, when the postgres image initialises an empty data volume (it is ignored
# on every later start: changing a password afterwards means ALTER ROLE by hand, and a
# volume made before the two support roles existed is upgraded as docs/deploying.md
# says).
#
# Creates least-privilege login roles next to the superuser:
#   temporal       may create databases; temporal-schema (admin-tools) then creates and
#                  owns `temporal` and `temporal_visibility` itself.
#   support_owner  owns the application's database `support` and its tables: the
#                  `migrate` service connects as this role, and nothing else does.
#   support_app    what the API and the worker connect as: it reads and writes the
#                  application's tables but may only SELECT and INSERT on case_events
#                  (the append-only log), cannot create, alter or drop anything, and
#                  only reads schema_migrations. See support-privileges.psql.
# Passwords are passed as psql variables so that quoting is done by psql.
set -e

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
    -v temporal_password="${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is not set}" \
    -v owner_password="${SUPPORT_OWNER_DB_PASSWORD:?SUPPORT_OWNER_DB_PASSWORD is not set}" \
    -v app_password="${SUPPORT_APP_DB_PASSWORD:?SUPPORT_APP_DB_PASSWORD is not set}" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE ROLE support_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE support_app LOGIN PASSWORD :'app_password';
CREATE DATABASE support OWNER support_owner;
REVOKE ALL ON DATABASE support FROM PUBLIC;
GRANT CONNECT ON DATABASE support TO support_app;
SQL

# Schema and table privileges inside `support` (idempotent; also used to upgrade an
# existing volume). The file's extension keeps the entrypoint from running it itself.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname support \
    -f /docker-entrypoint-initdb.d/support-privileges.psql
