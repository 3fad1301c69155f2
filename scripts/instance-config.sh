#!/usr/bin/env bash
# Write instance/config.py with a random SECRET_KEY on first run; never overwrite it.
set -euo pipefail
mkdir -p instance
if [ ! -f instance/config.py ]; then
  key=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
  umask 077
  printf '# Written by make run on first start. Keep it secret; it signs sessions.\nSECRET_KEY = "%s"\n' "$key" > instance/config.py
  echo "Wrote instance/config.py with a new random SECRET_KEY."
fi
