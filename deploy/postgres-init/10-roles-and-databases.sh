#!/bin/sh
# Runs once, when the postgres image initialises an empty data volume (it is ignored
# on every later start: changing a password afterwards means ALTER ROLE by hand).
#
# Creates two least-privilege login roles next to the superuser:
#   temporal  may create databases; temporal-schema (admin-tools) then creates and
#             owns `temporal` and `temporal_visibility` itself.
#   support   owns the application's database `support` and nothing else.
# Passwords are passed as psql variables so that quoting is done by psql.
set -e

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
    -v temporal_password="${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is not set}" \
    -v support_password="${SUPPORT_DB_PASSWORD:?SUPPORT_DB_PASSWORD is not set}" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE ROLE support LOGIN PASSWORD :'support_password';
CREATE DATABASE support OWNER support;
REVOKE ALL ON DATABASE support FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE support TO support;
SQL
