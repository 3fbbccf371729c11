#!/usr/bin/env bash
# Stops the daemons ceph-up.sh started, by pid file (gateway, OSD, monitor), and waits for them to exit.
D=${CEPH_DIR:?set CEPH_DIR}
for n in client.rgw.a osd.0 mon.a; do
  f="$D/run/$n.pid"; [ -f "$f" ] || continue
  p=$(cat "$f")
  kill "$p" 2>/dev/null || continue
  for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null
done
exit 0
