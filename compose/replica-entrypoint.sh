#!/bin/bash
# A streaming hot standby of $PRIMARY_HOST. On first start its data directory is empty:
# clone the primary with pg_basebackup (-R writes the standby settings, -C -S creates its
# replication slot), then run postgres. Later starts reuse the data directory.
set -euo pipefail

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h "$PRIMARY_HOST" -U "$POSTGRES_USER" -d "$POSTGRES_DB"; do sleep 1; done
  export PGPASSWORD="$REPLICATION_PASSWORD"
  # A slot left by an earlier, interrupted clone would make -C fail.
  psql -h "$PRIMARY_HOST" -U "$REPLICATION_USER" -d "$POSTGRES_DB" -Atc \
    "SELECT pg_drop_replication_slot('$REPLICATION_SLOT') FROM pg_replication_slots WHERE slot_name = '$REPLICATION_SLOT'" \
    >/dev/null 2>&1 || true
  pg_basebackup -h "$PRIMARY_HOST" -U "$REPLICATION_USER" -D "$PGDATA" \
    -R -X stream -C -S "$REPLICATION_SLOT" -c fast
  chmod 0700 "$PGDATA"
  unset PGPASSWORD
fi
exec postgres -c hot_standby=on
