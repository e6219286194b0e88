# Origin lock: the origin publishes no port. cloudflared (compose service / k8s Deployment) dials
# out to Cloudflare and carries the API host's traffic in; anything else gets 404 from the tunnel.
# The alternative for an origin that must listen publicly (docs/deploy.md#cloudflare):
# Authenticated Origin Pulls (cloudflare_authenticated_origin_pulls_settings, the origin requires
# Cloudflare's client certificate) plus a host firewall allowing only Cloudflare's ranges
# (app/core/data/cloudflare_ips.txt), with TRUSTED_PROXY_CIDRS=cloudflare.

resource "cloudflare_zero_trust_tunnel_cloudflared" "api" {
  account_id = var.cloudflare_account_id
  name       = "launchproof-${var.api_subdomain}"
  config_src = "cloudflare" # ingress below is managed here, not in a file on the host
}

resource "cloudflare_zero_trust_tunnel_cloudflared_config" "api" {
  account_id = var.cloudflare_account_id
  tunnel_id  = cloudflare_zero_trust_tunnel_cloudflared.api.id

  config = {
    ingress = [
      {
        hostname = local.api_host
        service  = var.origin_service
        origin_request = {
          connect_timeout = 10
          # Streams stay open while a turn runs; the app pings every SSE_PING_SECONDS.
          keep_alive_timeout = 90
          http_host_header   = local.api_host
        }
      },
      {
        service = "http_status:404"
      },
    ]
  }
}

data "cloudflare_zero_trust_tunnel_cloudflared_token" "api" {
  account_id = var.cloudflare_account_id
  tunnel_id  = cloudflare_zero_trust_tunnel_cloudflared.api.id
}

resource "cloudflare_dns_record" "api" {
  zone_id = var.cloudflare_zone_id
  name    = local.api_host
  type    = "CNAME"
  content = "${cloudflare_zero_trust_tunnel_cloudflared.api.id}.cfargotunnel.com"
  ttl     = 1
  proxied = true
  comment = "The API, through the Tunnel only"
}
