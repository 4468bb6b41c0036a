"""Accounts and access: users and roles, login tokens, agency API keys, guards."""
