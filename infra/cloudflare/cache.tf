# Nothing under /v1/ is ever cached at the edge: answers are per principal, and the app marks
# authenticated ones no-store anyway. The health endpoints are not cached either, so a health
# check sees the origin. The API serves no static assets of its own (no docs site or console in
# production: /docs is development only), so there is no "cache everything" rule.

resource "cloudflare_ruleset" "cache" {
  zone_id     = var.cloudflare_zone_id
  name        = "Launchproof cache rules"
  description = "Bypass the cache for the API and health endpoints"
  kind        = "zone"
  phase       = "http_request_cache_settings"

  rules = [
    {
      ref         = "bypass_api"
      description = "Never cache the API or health endpoints"
      expression  = "(starts_with(http.request.uri.path, \"/v1/\") or http.request.uri.path in {\"/healthz\" \"/readyz\" \"/readyz/dependencies\" \"/metrics\"})"
      action      = "set_cache_settings"
      enabled     = true
      action_parameters = {
        cache = false
      }
    },
  ]
}
