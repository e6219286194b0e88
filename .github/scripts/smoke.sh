#!/usr/bin/env bash
# Smoke test of a deployed environment through Cloudflare: /healthz (the process answers) and
# /readyz (its dependencies answer), with retries while the new pods take traffic.
#   smoke.sh https://staging.example.com
# When the scorecard command (`python -m app check`) exists, it replaces these two requests.
set -euo pipefail
base="${1%/}"
[[ "$base" =~ ^https:// ]] || { echo "PUBLIC_URL must be https://..." >&2; exit 2; }
for path in /healthz /readyz; do
  curl -fsS --retry 10 --retry-delay 6 --retry-all-errors --max-time 10 "$base$path"
  echo
done
