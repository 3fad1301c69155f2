#!/usr/bin/env bash
# Serve the web app and the scheduler (alerts, roster check, digest); Ctrl-C stops both.
set -uo pipefail
pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
}
trap stop INT TERM EXIT
"$BIN/flask" run --host "$HOST" --port "$PORT" --no-reload &
pids+=($!)
"$BIN/flask" scheduler run &
pids+=($!)
wait -n
