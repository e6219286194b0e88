# SPF, DKIM and DMARC for platform e-mail: the records of infra/dns/email-records.zone
# (tests/email/test_dns_records.py checks both say the same). TXT records are never proxied.

resource "cloudflare_dns_record" "spf" {
  zone_id = var.cloudflare_zone_id
  name    = var.domain
  type    = "TXT"
  ttl     = 3600
  content = "v=spf1 ip4:${var.smtp_relay_ipv4} -all"
}

resource "cloudflare_dns_record" "dkim" {
  zone_id = var.cloudflare_zone_id
  name    = "${var.dkim_selector}._domainkey.${var.domain}"
  type    = "TXT"
  ttl     = 3600
  content = "v=DKIM1; k=rsa; p=${var.dkim_public_key_base64}"
}

resource "cloudflare_dns_record" "dmarc" {
  zone_id = var.cloudflare_zone_id
  name    = "_dmarc.${var.domain}"
  type    = "TXT"
  ttl     = 3600
  content = "v=DMARC1; p=quarantine; adkim=s; aspf=s; rua=mailto:${var.dmarc_rua}; fo=1"
}
