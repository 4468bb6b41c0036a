"""Thailand's geography: the 77 provinces, six regions, and the gazetteer that tags text."""
