"""firewatch stage: alerting (see README.md beside this file)."""
