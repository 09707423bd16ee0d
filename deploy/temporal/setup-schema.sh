#!/bin/sh
# One-shot (temporalio/admin-tools): create Temporal's two PostgreSQL databases and
# bring their schemas to the version that ships with this admin-tools image.
# Every step is idempotent, so it runs on every `docker compose up`; after an image
# upgrade it applies the new schema versions before the new server starts.
# Connection settings come from docker-compose.yml; temporal-sql-tool reads the password
# from SQL_PASSWORD itself, which keeps it out of the process list.
set -eu

: "${SQL_HOST:?SQL_HOST is not set}" "${SQL_USER:?SQL_USER is not set}"
: "${SQL_PASSWORD:?SQL_PASSWORD is not set}"
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12
tries=${SETUP_MAX_ATTEMPTS:-30}

n=1
until nc -z -w 5 "$SQL_HOST" "${SQL_PORT:-5432}"; do
    [ "$n" -ge "$tries" ] && { echo "PostgreSQL at $SQL_HOST is not reachable" >&2; exit 1; }
    echo "waiting for PostgreSQL ($n/$tries)"
    n=$((n + 1))
    sleep 2
done

# PostgreSQL 12 and later use the `postgres12` plugin and the v12 schema.
sql_tool() {
    database=$1
    shift
    temporal-sql-tool --plugin postgres12 --endpoint "$SQL_HOST" --port "${SQL_PORT:-5432}" \
        --user "$SQL_USER" --database "$database" "$@"
}

for pair in "${TEMPORAL_DB:-temporal}:temporal" "${TEMPORAL_VISIBILITY_DB:-temporal_visibility}:visibility"; do
    db=${pair%%:*}
    store=${pair#*:}
    echo "== $db ($store store)"
    sql_tool "$db" create-database
    sql_tool "$db" setup-schema --version 0.0
    sql_tool "$db" update-schema --schema-dir "$SCHEMA_ROOT/$store/versioned"
done
echo "Temporal schemas are up to date"
