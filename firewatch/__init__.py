"""firewatch: fire-safety sensor ingestion and early-warning engine (composition root)."""

__version__ = "0.1.0"
