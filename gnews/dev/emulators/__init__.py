"""Emulators on loopback of what cannot be reached here: FCM, APNs and agencies' feed servers.

Used for development, tests and benchmarks: FCM HTTP v1 and APNs HTTP/2 (``fcm``, ``apns``,
``suite``) and an agency web site serving feeds (``feeds``).

The push gateway emulators speak the real request and error formats, record what they receive
and fail on demand. ``gnews emulators`` runs both; ``gnews dev`` starts them unless real
gateways are configured. See ``docs/push.md``.
"""
