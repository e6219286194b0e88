#!/usr/bin/env bash
# Creates the random secrets for compose.yaml in ./secrets/ (never overwrites a file).
# The four secrets that come from outside (tunnel token, model provider key, SMTP URL, DKIM
# key) are listed at the end; create them by hand. Usage: ./make-secrets.sh [DIR]
set -euo pipefail
dir="${1:-$(dirname "$0")/secrets}"
umask 077
mkdir -p "$dir"
chmod 0700 "$dir"

rand() { openssl rand -hex 32; }  # hex: safe inside URLs and config files unquoted
put() {  # put NAME VALUE: write once, readable by the containers' users (the dir is 0700)
  if [[ -e "$dir/$1" ]]; then echo "kept     $1"; return; fi
  printf '%s' "$2" > "$dir/$1"
  chmod 0444 "$dir/$1"
  echo "created  $1"
}
# Read an existing password back, so a URL always matches the password it embeds.
get_or_make() { if [[ -e "$dir/$1" ]]; then cat "$dir/$1"; else rand; fi; }

owner=$(get_or_make postgres_owner_password)
app=$(get_or_make postgres_app_password)
redis=$(get_or_make redis_password)
put postgres_superuser_password "$(rand)"
put postgres_owner_password "$owner"
put postgres_app_password "$app"
put postgres_backup_password "$(rand)"
put redis_password "$redis"
put database_url "postgresql://launchproof_app:${app}@postgres:5432/launchproof"
put database_migration_url "postgresql://launchproof_owner:${owner}@postgres:5432/launchproof"
put redis_url "redis://:${redis}@redis:6379/0"
put secret_key "$(rand)"
put metrics_token "$(rand)"
# A Fernet key: 32 random bytes, URL-safe base64.
put webhook_encryption_keys "$(openssl rand 32 | base64 | tr '+/' '-_')"

missing=0
for name in cloudflare_tunnel_token openai_api_key smtp_url dkim_private_key; do
  if [[ ! -s "$dir/$name" ]]; then echo "missing  $name (create it by hand, mode 0444)"; missing=1; fi
done
exit "$missing"
