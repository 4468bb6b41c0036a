"""`gnews dev` only: embedded MongoDB and Redis, the supervisor, and the push gateway emulators."""
