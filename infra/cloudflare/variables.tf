variable "cloudflare_account_id" {
  type        = string
  description = "Account id (Tunnel and notification policies live at account level)"
}

variable "cloudflare_zone_id" {
  type        = string
  description = "Zone id of var.domain"
}

variable "domain" {
  type        = string
  description = "The zone apex, e.g. example.com"
}

variable "api_subdomain" {
  type        = string
  default     = "api"
  description = "The API's host under var.domain: PUBLIC_URL is https://<api_subdomain>.<domain>"
}

variable "redirect_hosts" {
  type        = list(string)
  default     = ["www"]
  description = "Other names under var.domain answered with a 301 to the canonical API host"
}

variable "hsts_max_age_seconds" {
  type        = number
  default     = 63072000
  description = "Must equal the app's Strict-Transport-Security max-age (app/core/security_headers.py)"
}

variable "origin_service" {
  type        = string
  default     = "http://api:8000"
  description = "Where cloudflared reaches the API inside the private network (compose/k8s service)"
}

variable "alert_email" {
  type        = string
  description = "Mailbox for health check and tunnel notifications"
}

variable "health_check_conversation_id" {
  type        = string
  default     = "00000000-0000-4000-8000-000000000000"
  description = "Monitoring workspace conversation (infra/uptime/checks.yml chat_send)"
}

variable "health_check_webhook_source" {
  type        = string
  default     = "billing"
  description = "One of WEBHOOK_INBOUND_SECRETS' sources (infra/uptime/checks.yml webhook_receive)"
}

# E-mail records (the values of infra/dns/email-records.zone).
variable "smtp_relay_ipv4" {
  type        = string
  description = "Address the SMTP relay sends from"
}

variable "dkim_selector" {
  type        = string
  default     = "lp2026"
  description = "DKIM_SELECTOR"
}

variable "dkim_public_key_base64" {
  type        = string
  description = "base64 DER SubjectPublicKeyInfo of DKIM_PRIVATE_KEY (public, not a secret)"
}

variable "dmarc_rua" {
  type        = string
  description = "DMARC aggregate report mailbox"
}

locals {
  api_host = "${var.api_subdomain}.${var.domain}"
}
