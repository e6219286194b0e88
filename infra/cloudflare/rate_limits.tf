# Edge rate limits: coarse, per client IP, in front of the app's exact budgets (docs/rate-limits.md).
# The app counts per account, user, source or IP with the exact numbers (RATE_LIMIT_*); the edge
# only stops floods before they reach the origin, so every threshold here is above what the
# app's strictest budget would let one principal send in the same period (a NAT shares an IP).
# tests/infra/test_cloudflare_rate_limits.py checks that every abuse-prone budget has a rule
# whose expression matches its route and that no rule is stricter than the app.
#
# Four rules with a 60 s period and 60 s mitigation: the Business plan (5 rules). On Pro (2
# rules, 10 s period) merge auth + writes and webhooks + admin, and scale the thresholds by 1/6.

locals {
  problem_429 = jsonencode({
    type   = "about:blank"
    title  = "Too Many Requests"
    status = 429
    code   = "edge_rate_limited"
  })

  edge_rate_limits = {
    auth = {
      description         = "Auth forms per IP (app: RATE_LIMIT_LOGIN_*, SIGNUP_IP, PASSWORD_RESET_*, VERIFY_EMAIL_*, SECOND_FACTOR_*)"
      expression          = "(http.request.method eq \"POST\" and http.request.uri.path in {\"/v1/auth/login\" \"/v1/auth/signup\" \"/v1/auth/password-reset\" \"/v1/auth/password-reset/confirm\" \"/v1/auth/verify-email\" \"/v1/auth/login/second-factor\" \"/v1/auth/step-up\"})"
      requests_per_period = 60
    }
    writes = {
      description         = "Costly writes per IP (app: RATE_LIMIT_CHAT_SEND, UPLOAD, API_KEY_CREATE, INVITATION, WEBHOOK_REPLAY)"
      expression          = "(http.request.method eq \"POST\" and (http.request.uri.path wildcard \"/v1/conversations/*/messages\" or http.request.uri.path wildcard \"/v1/workspaces/*/files\" or http.request.uri.path wildcard \"/v1/workspaces/*/api-keys\" or http.request.uri.path wildcard \"/v1/workspaces/*/invitations\" or http.request.uri.path wildcard \"/v1/webhook-endpoints/*/recover\" or http.request.uri.path wildcard \"/v1/webhook-endpoints/*/redeliver\"))"
      requests_per_period = 120
    }
    webhooks = {
      description         = "Inbound webhooks per IP (app: RATE_LIMIT_WEBHOOK per source and IP)"
      expression          = "(http.request.method eq \"POST\" and starts_with(http.request.uri.path, \"/v1/webhooks/inbound/\"))"
      requests_per_period = 600
    }
    admin = {
      description         = "Staff console per IP (app: RATE_LIMIT_ADMIN per staff user)"
      expression          = "(starts_with(http.request.uri.path, \"/v1/admin/\") or http.request.uri.path eq \"/v1/admin\")"
      requests_per_period = 600
    }
  }
}

resource "cloudflare_ruleset" "rate_limits" {
  zone_id     = var.cloudflare_zone_id
  name        = "Launchproof edge rate limits"
  description = "Coarse per-IP limits; the app enforces the exact budgets"
  kind        = "zone"
  phase       = "http_ratelimit"

  rules = [
    for ref, rule in local.edge_rate_limits : {
      ref         = "rate_limit_${ref}"
      description = rule.description
      expression  = rule.expression
      action      = "block"
      enabled     = true
      action_parameters = {
        response = {
          status_code  = 429
          content_type = "application/problem+json"
          content      = local.problem_429
        }
      }
      ratelimit = {
        characteristics     = ["cf.colo.id", "ip.src"]
        period              = 60
        requests_per_period = rule.requests_per_period
        mitigation_timeout  = 60
      }
    }
  ]
}
