"""Who may do what: API users and their tokens, roles and permissions, community scope."""
