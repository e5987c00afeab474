"""firewatch stage: rules (see README.md beside this file)."""
