"""``/.well-known/security.txt`` (RFC 9116): where to report a vulnerability in this deployment."""
