#!/usr/bin/env bash
# Smoke test and gate of a deployed environment through Cloudflare: wait until the new pods answer
# /readyz, then score the deployment with `launchproof check` (docs/scorecard.md). Any FAIL exits
# 1 and stops the pipeline; a usage or checker error exits 2.
#   smoke.sh https://staging.example.com
# Optional environment: SCORECARD_DOMAIN and SCORECARD_DKIM_SELECTOR (the sending domain's DNS
# row), SCORECARD_SUMMARY (a file that gets the Markdown report, e.g. $GITHUB_STEP_SUMMARY).
set -euo pipefail
base="${1%/}"
[[ "$base" =~ ^https:// ]] || { echo "PUBLIC_URL must be https://..." >&2; exit 2; }
# The rollout has just finished: retry readiness until the new pods take traffic. This wait is
# the one request the scorecard cannot make for us (it asks once, within its budget).
curl -fsS --retry 10 --retry-delay 6 --retry-all-errors --max-time 10 "$base/readyz" >/dev/null
args=(check "$base" --expect-cloudflare --junit scorecard-junit.xml)
if [[ -n "${SCORECARD_DOMAIN:-}" ]]; then
  args+=(--domain "$SCORECARD_DOMAIN")
  [[ -z "${SCORECARD_DKIM_SELECTOR:-}" ]] || args+=(--dkim-selector "$SCORECARD_DKIM_SELECTOR")
fi
[[ -z "${SCORECARD_SUMMARY:-}" ]] || args+=(--markdown "$SCORECARD_SUMMARY")
python -m app "${args[@]}"
