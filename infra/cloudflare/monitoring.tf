# Cloudflare Health Checks for the checklist's four probes, and who hears about them. They run
# from Cloudflare's network through the public name (DNS, edge, Tunnel, origin), like users.
# Health Checks send GET or HEAD only, so the POST routes are probed for "route up and guarded":
# login and the inbound webhook answer 405 to a GET, the chat send URL answers 401 without a
# principal. The full POST probes (a refused login, a real turn, an unsigned webhook) stay in
# infra/uptime/checks.yml (blackbox exporter); Health Checks need the Pro plan or above.

locals {
  health_checks = {
    healthz = {
      path           = "/healthz"
      expected_codes = ["200"]
      interval       = 60
    }
    login = {
      path           = "/v1/auth/login"
      expected_codes = ["405"]
      interval       = 60
    }
    chat_send = {
      path           = "/v1/conversations/${var.health_check_conversation_id}/messages"
      expected_codes = ["401"]
      interval       = 300
    }
    webhook_receive = {
      path           = "/v1/webhooks/inbound/${var.health_check_webhook_source}"
      expected_codes = ["405"]
      interval       = 60
    }
  }
}

resource "cloudflare_healthcheck" "api" {
  for_each = local.health_checks

  zone_id               = var.cloudflare_zone_id
  name                  = "launchproof-${replace(each.key, "_", "-")}"
  description           = "GET ${each.value.path} answers ${join("/", each.value.expected_codes)}"
  address               = local.api_host
  type                  = "HTTPS"
  check_regions         = ["WEU", "ENAM"]
  consecutive_fails     = 2
  consecutive_successes = 2
  interval              = each.value.interval
  retries               = 2
  timeout               = 10
  suspended             = false

  http_config = {
    method           = "GET"
    path             = each.value.path
    port             = 443
    expected_codes   = each.value.expected_codes
    follow_redirects = false
    allow_insecure   = false
    header = {
      Host = [local.api_host]
    }
  }
}

resource "cloudflare_notification_policy" "health_checks" {
  account_id  = var.cloudflare_account_id
  name        = "Launchproof health checks"
  description = "A Launchproof health check changed state"
  enabled     = true
  alert_type  = "health_check_status_notification"

  mechanisms = {
    email = [{ id = var.alert_email }]
  }

  filters = {
    health_check_id = [for check in cloudflare_healthcheck.api : check.id]
    status          = ["Unhealthy", "Healthy"]
  }
}

resource "cloudflare_notification_policy" "tunnel" {
  account_id  = var.cloudflare_account_id
  name        = "Launchproof tunnel health"
  description = "The Tunnel carrying the API is degraded or down"
  enabled     = true
  alert_type  = "tunnel_health_event"

  mechanisms = {
    email = [{ id = var.alert_email }]
  }

  filters = {
    tunnel_id = [cloudflare_zero_trust_tunnel_cloudflared.api.id]
  }
}
