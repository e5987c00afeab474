"""firewatch stage: cases (see README.md beside this file)."""
