"""The security layer: IP allowlist, bearer authentication, scopes (SPEC §3)."""
