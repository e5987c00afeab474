"""firewatch stage: models (see README.md beside this file)."""
