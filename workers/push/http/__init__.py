"""Lean HTTP clients of the push transports: HTTP/1.1 keep-alive (FCM) and HTTP/2 (APNs)."""
