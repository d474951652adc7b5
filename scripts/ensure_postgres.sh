#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 and prints a SQLAlchemy URL for a test database.
# Uses the running server when there is one; otherwise installs it from Debian packages and starts it.
set -euo pipefail
log() { echo "ensure_postgres: $*" >&2; }
sudo_=""; [[ $(id -u) -ne 0 ]] && sudo_="sudo"

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    log "installing PostgreSQL from Debian packages"
    $sudo_ apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq postgresql postgresql-client >&2
  fi
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba=/etc/postgresql/$ver/main/pg_hba.conf
  # Local test server only: trust on loopback so the tests need no password.
  if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    log "allowing trust auth on 127.0.0.1 for the local test server"
    $sudo_ sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  log "starting PostgreSQL $ver"
  $sudo_ pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 || $sudo_ pg_ctlcluster "$ver" main start >&2
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { log "PostgreSQL did not start"; exit 1; }
db=${MCC_PG_TEST_DB:-mcc_test}
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname='$db'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -d postgres -qc "create database $db" >&2
fi
echo "postgresql+psycopg://postgres@127.0.0.1:5432/$db"
