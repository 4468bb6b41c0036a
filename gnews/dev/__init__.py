"""`gnews dev` only: embedded MongoDB and Redis, the supervisor, the gateway and feed emulators."""
