#!/usr/bin/env bash
# Deploy one Kubernetes overlay (staging or production) at an image digest:
#   deploy.sh <staging|production> <registry/name@sha256:digest>
# Order: the migration Job runs and completes, then the app rolls out, then the rollout is awaited.
# A failed migration stops here while the previous version keeps serving.
#
# Credentials: none stored. Each phase asks GitHub for a fresh OIDC ID token (the job grants
# `id-token: write`) and presents it to the cluster's API server, which trusts GitHub's issuer
# (structured authentication / an OIDC authenticator) and maps the token's subject
# `repo:<owner>/<repo>:environment:<env>` to a namespaced RBAC role (docs/deploy.md).
# Environment variables (GitHub environment *variables*, not secrets): KUBE_SERVER,
# KUBE_CA_DATA (base64 PEM), KUBE_OIDC_AUDIENCE.
set -euo pipefail

env_name="$1"
image="$2"
case "$env_name" in staging | production) ;; *) echo "unknown environment: $env_name" >&2; exit 2 ;; esac
[[ "$image" =~ ^[a-z0-9./_-]+@sha256:[0-9a-f]{64}$ ]] || { echo "image must be pinned by digest" >&2; exit 2; }
: "${KUBE_SERVER:?}" "${KUBE_CA_DATA:?}" "${KUBE_OIDC_AUDIENCE:?}"
: "${ACTIONS_ID_TOKEN_REQUEST_URL:?the job needs permissions: id-token: write}"

overlay="infra/k8s/overlays/$env_name"
namespace=$(sed -n 's/^namespace: //p' "$overlay/kustomization.yaml")
export KUBECONFIG="$RUNNER_TEMP/kubeconfig"

login() {
  local token
  token=$(curl -fsS -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
    "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=$KUBE_OIDC_AUDIENCE" | jq -r .value)
  echo "::add-mask::$token"
  base64 -d <<<"$KUBE_CA_DATA" >"$RUNNER_TEMP/kube-ca.pem"
  kubectl config set-cluster target --server="$KUBE_SERVER" \
    --certificate-authority="$RUNNER_TEMP/kube-ca.pem" >/dev/null
  kubectl config set-credentials ci --token="$token" >/dev/null
  kubectl config set-context target --cluster=target --user=ci --namespace="$namespace" >/dev/null
  kubectl config use-context target >/dev/null
}

render() {
  kubectl kustomize "$1" >"$RUNNER_TEMP/rendered.yaml"
  # The overlays ship all-zero digests as placeholders: never apply one.
  if grep -q '@sha256:0\{64\}' "$RUNNER_TEMP/rendered.yaml"; then
    echo "$1 still holds a placeholder image digest (set the cloudflared/pg-dump digests)" >&2
    exit 1
  fi
}

# The digest this run built and scanned; the other images are pinned in the repository.
python3 infra/k8s/pin_images.py "$overlay/env" "launchproof=$image"
python3 infra/k8s/pin_images.py --check "$overlay/env"

login
render "$overlay/migrate"
kubectl delete job launchproof-migrate --ignore-not-found --wait=true
kubectl apply -f "$RUNNER_TEMP/rendered.yaml"
# Wait for Complete or Failed (kubectl wait alone would sit out its timeout on a failed Job).
outcome=""
for _ in $(seq 1 90); do
  outcome=$(kubectl get job launchproof-migrate -o \
    jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}')
  case "$outcome" in *Complete*|*Failed*) break ;; esac
  sleep 10
done
if [[ "$outcome" != *Complete* ]]; then
  kubectl logs job/launchproof-migrate --tail=100 || true
  echo "migration failed or timed out (${outcome:-no outcome}): the previous version keeps serving" >&2
  exit 1
fi

login
render "$overlay"
kubectl apply -f "$RUNNER_TEMP/rendered.yaml"
for deployment in launchproof-api launchproof-worker; do
  kubectl rollout status "deployment/$deployment" --timeout=10m
done
