output "api_url" {
  value       = "https://${local.api_host}"
  description = "PUBLIC_URL"
}

output "tunnel_id" {
  value = cloudflare_zero_trust_tunnel_cloudflared.api.id
}

# Write it to the cloudflared secret file (docs/deploy.md): terraform output -raw tunnel_token
output "tunnel_token" {
  value     = data.cloudflare_zero_trust_tunnel_cloudflared_token.api.token
  sensitive = true
}
