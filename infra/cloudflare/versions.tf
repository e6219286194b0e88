# The edge in front of Launchproof: Cloudflare zone settings, WAF, rate limits, cache and
# redirect rules, DNS, the Tunnel that is the only way in, health checks and notifications.
# docs/deploy.md#cloudflare walks through init/plan/apply; tests/infra/test_cloudflare*.py hold
# the policy (settings that must not be weakened). The API token comes from the environment
# (CLOUDFLARE_API_TOKEN), never from a file here.

terraform {
  required_version = ">= 1.6.0"

  required_providers {
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 5.19"
    }
  }
}

provider "cloudflare" {
  # Reads CLOUDFLARE_API_TOKEN; see docs/deploy.md for the permissions the token needs.
}
