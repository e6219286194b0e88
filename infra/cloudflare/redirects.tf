# Canonical host: the apex and every name in var.redirect_hosts answer 301 to the API host, path
# and query kept. (Plain http is already redirected by always_use_https.)

locals {
  redirect_from = concat([var.domain], [for host in var.redirect_hosts : "${host}.${var.domain}"])
}

resource "cloudflare_ruleset" "canonical_host" {
  zone_id     = var.cloudflare_zone_id
  name        = "Launchproof canonical host"
  description = "Other names of the zone redirect to the API host"
  kind        = "zone"
  phase       = "http_request_dynamic_redirect"

  rules = [
    {
      ref         = "canonical_host"
      description = "301 to https://${local.api_host}"
      expression  = "(http.host in {${join(" ", [for host in local.redirect_from : "\"${host}\""])}})"
      action      = "redirect"
      enabled     = true
      action_parameters = {
        from_value = {
          status_code           = 301
          preserve_query_string = true
          target_url = {
            expression = "concat(\"https://${local.api_host}\", http.request.uri.path)"
          }
        }
      }
    },
  ]
}

# The redirected names need a proxied record to reach the rule; 192.0.2.1 (TEST-NET) is never
# contacted because the redirect answers at the edge.
resource "cloudflare_dns_record" "redirect_hosts" {
  for_each = toset(local.redirect_from)

  zone_id = var.cloudflare_zone_id
  name    = each.value
  type    = "A"
  content = "192.0.2.1"
  ttl     = 1
  proxied = true
  comment = "Redirect-only name: the canonical host rule answers at the edge"
}
