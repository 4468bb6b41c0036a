"""The console: the web application of EGA editors, agency staff, app developers and admins.

Server-rendered pages under ``/console`` over the same domain services and rules as the API
(a page handler validates a form, calls one service with the signed-in ``Principal``, renders a
template). Sessions are server-side in Redis (cookie ``gnews_console``: HttpOnly, SameSite=Lax,
Secure in production), with CSRF protection on every form and htmx request
(:mod:`gnews.console.sessions`). The menu shows only what the role may do
(:mod:`gnews.console.menu`). Forms re-render with each field's error next to it
(:mod:`gnews.console.forms`).
"""

from gnews.console.routes import console_router, console_stores

__all__ = ["console_router", "console_stores"]
