"""Who may do what: users and roles, rate limits, the audit log."""
