#!/bin/sh
# STAND-IN for the K3s installer (https://get.k3s.io), tests and demo only. Honours the
# installer's variables the bootstrap uses: INSTALL_K3S_VERSION, INSTALL_K3S_EXEC (server or
# agent; K3S_URL implies agent) and INSTALL_K3S_SKIP_DOWNLOAD=true (binary already placed).
set -eu
cmd=${INSTALL_K3S_EXEC:-}
[ -z "$cmd" ] && { [ -n "${K3S_URL:-}" ] && cmd=agent || cmd=server; }
cmd=${cmd%% *}
case "$cmd" in server|agent) ;; *) echo "[ERROR] unknown exec $cmd" >&2; exit 1 ;; esac
standin=$(python3 -c 'import json,os;print(json.load(open(os.environ["SOPHIA_STANDIN_HOST"]+"/standin.json"))["standin"])')
if [ "${INSTALL_K3S_SKIP_DOWNLOAD:-}" != true ]; then
  echo "[INFO]  Using ${INSTALL_K3S_VERSION:?} as release (stand-in)"
  install -m 0755 "$standin/k3s/k3s" /usr/local/bin/k3s
fi
[ -x /usr/local/bin/k3s ] || { echo "[ERROR] /usr/local/bin/k3s missing (air-gap: upload it first)" >&2; exit 1; }
mkdir -p /var/lib/rancher/k3s
[ -n "${INSTALL_K3S_VERSION:-}" ] && echo "$INSTALL_K3S_VERSION" > /var/lib/rancher/k3s/standin-version
echo "$cmd" > /var/lib/rancher/k3s/standin-service
# How it was installed, for the tests: downloaded, or air-gapped (binary uploaded beforehand).
[ "${INSTALL_K3S_SKIP_DOWNLOAD:-}" = true ] && mode=skip-download || mode=download
echo "$mode" > /var/lib/rancher/k3s/standin-install
echo "[INFO]  systemd: Starting k3s${cmd#server} (stand-in)"
exec /usr/local/bin/k3s standin-start "$cmd"
