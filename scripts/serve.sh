#!/usr/bin/env bash
# Serve the web app (and, once it exists, the scheduler); Ctrl-C stops all of them.
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
if "$BIN/flask" scheduler --help >/dev/null 2>&1; then
  "$BIN/flask" scheduler run &
  pids+=($!)
fi
wait -n
