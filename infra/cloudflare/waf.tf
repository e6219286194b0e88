# WAF managed rulesets, deployed zone-wide in the managed-rules phase. The ids are Cloudflare's
# fixed ruleset ids: Cloudflare Managed Ruleset and the OWASP Core Ruleset (Pro plan or above;
# on Free, the Free Managed Ruleset is deployed automatically).

locals {
  cloudflare_managed_ruleset_id = "efb7b8c949ac4650a09736fc376e9aee"
  owasp_core_ruleset_id         = "4814384a9e5d4991b9815dcfc25d2f1f"
}

resource "cloudflare_ruleset" "waf_managed" {
  zone_id     = var.cloudflare_zone_id
  name        = "Launchproof managed WAF"
  description = "Cloudflare Managed Ruleset and OWASP Core Ruleset on every request"
  kind        = "zone"
  phase       = "http_request_firewall_managed"

  rules = [
    {
      ref         = "cloudflare_managed"
      description = "Cloudflare Managed Ruleset"
      expression  = "true"
      action      = "execute"
      enabled     = true
      action_parameters = {
        id = local.cloudflare_managed_ruleset_id
      }
    },
    {
      ref         = "owasp_core"
      description = "OWASP Core Ruleset"
      expression  = "true"
      action      = "execute"
      enabled     = true
      action_parameters = {
        id = local.owasp_core_ruleset_id
      }
    },
  ]
}
