"""Emulators of what cannot be reached from here: the push gateways (FCM HTTP v1, APNs HTTP/2)
and agencies' feed servers (``feeds``), for development, tests and benchmarks.

The push gateway emulators speak the real request and error formats, record what they receive
and fail on demand. ``gnews emulators`` runs both; ``gnews dev`` starts them unless real
gateways are configured. See ``docs/push.md``.
"""
