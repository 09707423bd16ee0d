#!/bin/sh
# One-shot (temporalio/admin-tools): once the server answers, make sure the namespace
# exists and that the custom search attributes the case workflows upsert are
# registered on it (a workflow that upserts an unregistered attribute fails its task).
# SEARCH_ATTRIBUTES is a space-separated list of Name=Type, kept in docker-compose.yml
# and checked there against workflows/search_attributes.py by .ci/check-compose.
set -eu

address=${TEMPORAL_ADDRESS:-temporal:7233}
namespace=${TEMPORAL_NAMESPACE:-default}
retention=${TEMPORAL_NAMESPACE_RETENTION:-720h}
tries=${SETUP_MAX_ATTEMPTS:-60}
: "${SEARCH_ATTRIBUTES:?SEARCH_ATTRIBUTES is not set}"

n=1
until temporal operator cluster health --address "$address" >/dev/null 2>&1; do
    [ "$n" -ge "$tries" ] && { echo "Temporal at $address did not become healthy" >&2; exit 1; }
    echo "waiting for Temporal at $address ($n/$tries)"
    n=$((n + 1))
    sleep 2
done

n=1
until temporal operator namespace describe --address "$address" --namespace "$namespace" >/dev/null 2>&1; do
    if temporal operator namespace create --address "$address" --namespace "$namespace" \
            --retention "$retention"; then
        break
    fi
    [ "$n" -ge "$tries" ] && { echo "could not create namespace $namespace" >&2; exit 1; }
    n=$((n + 1))
    sleep 2
done
echo "namespace $namespace is there"

registered() {
    temporal operator search-attribute list --address "$address" --namespace "$namespace" \
        2>/dev/null | grep -Eiq "(^|[[:space:]])$1[[:space:]]+(INDEXED_VALUE_TYPE_)?$2([[:space:]]|$)"
}

# A namespace that was just created reaches the frontend's namespace cache a few
# seconds later; until then the search-attribute calls fail, so each one is retried.
for spec in $SEARCH_ATTRIBUTES; do
    name=${spec%%=*}
    type=${spec#*=}
    n=1
    until registered "$name" "$type"; do
        [ "$n" -ge "$tries" ] && { echo "could not register search attribute $name ($type)" >&2; exit 1; }
        temporal operator search-attribute create --address "$address" --namespace "$namespace" \
            --name "$name" --type "$type" || true
        n=$((n + 1))
        sleep 1
    done
    echo "search attribute $name ($type) is registered"
done
echo "search attributes registered on $namespace"
