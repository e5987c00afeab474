"""The database: schema migrations and readings partition upkeep (the stages meet here at rest)."""
