"""The HTTP API (CONTRACT.md section 4): health, metrics, and the /api/v1 resources."""
