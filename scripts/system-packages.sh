#!/usr/bin/env bash
# Installs, with apt-get and only when missing, the system packages the networked targets and
# their tests need: redis-server (and redis-tools for redis-benchmark), zookeeper (with Java),
# etcd-server, etcd-client (etcdctl), and
# chromium (the report test renders report.html in it), nginx (the balancing family's
# comparison rows run it beside our proxy), and postgresql (the two-phase-commit family's
# `engine:postgres-2pc` row; Debian keeps its binaries in /usr/lib/postgresql/*/bin), and
# python3 (scripts/module-cycles.py, the import-cycle check test.sh runs).
# Runs `apt-get update` only if something must be installed. Sourced by setup.sh and test.sh.
install_missing_system_packages() {
  local need=()
  command -v redis-server >/dev/null || need+=(redis-server)
  command -v redis-benchmark >/dev/null || need+=(redis-tools)
  { [ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null; } || need+=(zookeeper)
  command -v etcd >/dev/null || need+=(etcd-server)
  command -v etcdctl >/dev/null || need+=(etcd-client)
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null || need+=(chromium)
  command -v nginx >/dev/null || need+=(nginx)
  command -v python3 >/dev/null || need+=(python3)
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null || need+=(postgresql)
  if [ ${#need[@]} -eq 0 ]; then
    return 0
  fi
  echo "== installing ${need[*]}"
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install ${need[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
}
