"""Government agencies: who publishes news and apps."""
