"""The arq jobs: feed polling (ingest), push fan-out, sending, the reconciler and retention."""
