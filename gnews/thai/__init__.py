"""Thai language: search terms from unsegmented text, and Thai dates (Buddhist Era, Thai digits)."""
