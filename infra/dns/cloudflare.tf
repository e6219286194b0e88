# The same records as ./email-records.zone, as Terraform for the Cloudflare provider (v4 schema:
# `cloudflare_record` with `value`; v5 renames these to `cloudflare_dns_record` and `content`).
# Values marked PLACEHOLDER come from variables; nothing secret lives here (a DKIM public key
# is public).

variable "cloudflare_zone_id" {
  type        = string
  description = "Zone id of the sending domain (PLACEHOLDER)"
}

variable "sending_domain" {
  type        = string
  description = "Domain of EMAIL_FROM, e.g. example.com (PLACEHOLDER)"
}

variable "smtp_relay_ipv4" {
  type        = string
  description = "Address the SMTP relay sends from (PLACEHOLDER)"
}

variable "dkim_selector" {
  type        = string
  default     = "lp2026"
  description = "DKIM_SELECTOR"
}

variable "dkim_public_key_base64" {
  type        = string
  description = "base64 DER SubjectPublicKeyInfo of DKIM_PRIVATE_KEY (PLACEHOLDER)"
}

variable "dmarc_rua" {
  type        = string
  description = "DMARC aggregate report mailbox, e.g. dmarc-reports@example.com (PLACEHOLDER)"
}

resource "cloudflare_record" "spf" {
  zone_id = var.cloudflare_zone_id
  name    = var.sending_domain
  type    = "TXT"
  ttl     = 3600
  value   = "v=spf1 ip4:${var.smtp_relay_ipv4} -all"
}

resource "cloudflare_record" "dkim" {
  zone_id = var.cloudflare_zone_id
  name    = "${var.dkim_selector}._domainkey.${var.sending_domain}"
  type    = "TXT"
  ttl     = 3600
  value   = "v=DKIM1; k=rsa; p=${var.dkim_public_key_base64}"
}

resource "cloudflare_record" "dmarc" {
  zone_id = var.cloudflare_zone_id
  name    = "_dmarc.${var.sending_domain}"
  type    = "TXT"
  ttl     = 3600
  value   = "v=DMARC1; p=quarantine; adkim=s; aspf=s; rua=mailto:${var.dmarc_rua}; fo=1"
}
