"""Push notifications as data: what was sent, and each device's inbox of what it was sent."""
