#!/usr/bin/env bash
# terraform init for infra/cloudflare in CI, with the state in S3 (native S3 locking: no DynamoDB
# table). The module itself names no backend, so a fork can keep local state or pick another;
# the pipeline adds this one. AWS credentials come from the OIDC role assumed just before.
#   TF_STATE_BUCKET=<bucket> bash ../../.github/scripts/terraform-init.sh   (in infra/cloudflare)
set -euo pipefail
: "${TF_STATE_BUCKET:?set the TF_STATE_BUCKET environment variable}"
: "${AWS_REGION:?configure-aws-credentials sets AWS_REGION}"
cat > backend_ci.tf <<'HCL'
terraform {
  backend "s3" {}
}
HCL
terraform init -input=false \
  -backend-config="bucket=$TF_STATE_BUCKET" \
  -backend-config="key=launchproof/cloudflare.tfstate" \
  -backend-config="region=$AWS_REGION" \
  -backend-config="encrypt=true" \
  -backend-config="use_lockfile=true"
