#!/usr/bin/env bash
# Starts a single-node Ceph cluster with an S3 gateway (RGW) for the tests: one monitor, one in-memory (memstore)
# OSD, one gateway on http://127.0.0.1:$RGW_PORT, user test/testsecret. RGW is a real S3 implementation that
# enforces If-None-Match / If-Match, which the compare-and-swap tests need.
# Usage: CEPH_DIR=/tmp/x RGW_PORT=7480 CEPH_MON_PORT=6789 ceph-up.sh      Stop with ceph-down.sh (by pid file).
set -euo pipefail
D=${CEPH_DIR:?set CEPH_DIR}
PORT=${RGW_PORT:-7480}
MON_PORT=${CEPH_MON_PORT:-6789}
MEMSTORE_BYTES=${CEPH_MEMSTORE_BYTES:-4294967296}
here=$(cd "$(dirname "$0")" && pwd)
# On any failure say which command failed and show the daemons' last words.
on_error() {
  echo "ceph-up: failed at line $1: $2" >&2
  for f in "$D"/log/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }; done
}
trap 'on_error $LINENO "$BASH_COMMAND"' ERR

# A monitor left over from an earlier run holds the port and makes the new OSD report 'wrong fsid': stop it first.
CEPH_DIR="$D" bash "$here/ceph-down.sh" || true
if (echo > "/dev/tcp/127.0.0.1/$MON_PORT") 2>/dev/null; then
  echo "ceph-up: port $MON_PORT is taken by another process; set CEPH_MON_PORT" >&2; exit 1
fi
if (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "ceph-up: port $PORT is taken by another process; set RGW_PORT" >&2; exit 1
fi

rm -rf "$D"; mkdir -p "$D"/{mon,osd0,run,log}
FSID=$(cat /proc/sys/kernel/random/uuid)
cat > "$D/ceph.conf" <<CONF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MON_PORT
mon initial members = a
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 1
auth allow insecure global id reclaim = false
mon warn on insecure global id reclaim = false
mon warn on msgr2 not enabled = false
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
pid file = $D/run/\$name.pid
keyring = $D/keyring
[mon]
mon data = $D/mon
[osd]
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES
osd data = $D/osd\$id
osd max object name len = 460
osd max object namespace len = 64
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw dns name = localhost
CONF
export CEPH_CONF="$D/ceph.conf"
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --add a "v1:127.0.0.1:$MON_PORT" "$D/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring"
ceph-mon -i a
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
timeout 60 ceph osd new "$OSD_UUID" >/dev/null
ceph-osd -i 0 --mkfs --osd-uuid "$OSD_UUID" > "$D/log/osd-mkfs.log" 2>&1
timeout 60 ceph osd crush add osd.0 1.0 root=default host=localhost >/dev/null 2>&1 || timeout 60 ceph osd crush add-bucket localhost host >/dev/null
ceph-osd -i 0 2> "$D/log/osd-start.log"
radosgw -n client.rgw.a
for _ in $(seq 1 120); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
  sleep 0.5
done
if ! curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
  echo "ceph-up: the gateway did not answer on port $PORT within 60 s; see $D/log" >&2; exit 1
fi
timeout 60 radosgw-admin user create --uid=test --display-name=test --access-key=test --secret-key=testsecret >/dev/null
echo "ceph-up: RGW on http://127.0.0.1:$PORT (access key test, secret testsecret)"
