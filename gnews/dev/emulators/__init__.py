"""Emulators of the push gateways, FCM HTTP v1 and APNs HTTP/2, for development, tests and
benchmarks: they speak the real request and error formats, record what they receive and fail on
demand. ``gnews emulators`` runs both; ``gnews dev`` starts them unless real gateways are
configured. See ``docs/push.md``.
"""
