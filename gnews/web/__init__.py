"""What the web pages share: templates, static files, language and Bangkok time.

The console (``gnews.console``, for staff, agencies and developers) and the public site
(``gnews.site``, for citizens) are server-rendered Jinja templates with htmx, served by the same
Litestar application as the API. Nothing is loaded from another host: htmx, Swagger UI and the
province map are files of this package (``static/vendor``, ``static/map``; their licences sit
beside them), served under ``/static``.

* :func:`template_config`: the template engine, with the globals every template uses
  (``tr``, ``static``, ``bangkok``).
* :func:`static_files`: the router serving ``static/``.
* :func:`page_language`: the language of a page (``?lang=``, else the ``lang`` cookie, else Thai);
  :func:`language_cookies`: the cookie that remembers a ``?lang=`` choice (set it on the page).
"""

from __future__ import annotations

from gnews.web.rendering import (
    LANGUAGES,
    STATIC_PATH,
    language_cookies,
    page_language,
    static_files,
    template_config,
)

__all__ = [
    "LANGUAGES",
    "STATIC_PATH",
    "language_cookies",
    "page_language",
    "static_files",
    "template_config",
]
