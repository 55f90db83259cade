"""A phone's GET from the WSGI server straight to ``phones.answer_fetch``, past Flask.

In a boot storm most requests are phones' GETs on ``/p/`` and ``/p/a/``, and a kept answer
costs less than Flask's dispatch around it (request context, session, URL matching, hooks).
This layer reads what ``answer_fetch`` needs from the WSGI environment (after ProxyFix, which
wraps it, has rewritten the client's address and scheme) and answers with the very same
``Response``: the bytes are those of the view (tested side by side). Everything else goes to
Flask: other paths and methods, the firmware downloads under ``/p/firmware/``, paths Flask's
router would redirect or refuse, and every request while ``serve`` logs each one.
``PHONE_FAST_PATH`` false turns it off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from flask import Flask, Response
from werkzeug.wsgi import get_current_url

from provisioner.http.phones import Fetch, answer_fetch
from provisioner.http.request_log import EXTENSION_KEY as REQUEST_LOG_KEY

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class PhoneFastPath:
    """WSGI middleware answering phones' GETs itself."""

    def __init__(self, app: Flask, inner: WSGIApp) -> None:
        self._app = app
        self._inner = inner

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        fetch = fetch_of(environ)
        app = self._app
        if (
            fetch is None
            or not app.config["PHONE_FAST_PATH"]
            or app.extensions.get(REQUEST_LOG_KEY)
        ):
            return self._inner(environ, start_response)
        # No app context: everything on a phone's path is handed the app (pushing and
        # popping one, with its signals, cost a tenth of a challenge's answer).
        try:
            response, _ = answer_fetch(app, fetch)
        except Exception:  # what Flask would answer: logged, 500
            log.exception("phone request %s failed", fetch.path)
            response = Response(b"", status=500, content_type="text/plain")
        return response(environ, start_response)


def fetch_of(environ: dict[str, Any]) -> Fetch | None:
    """The phone's GET in ``environ``, or None for anything Flask should route."""
    if environ.get("REQUEST_METHOD") != "GET":
        return None
    raw_path = environ.get("PATH_INFO") or ""
    if not raw_path.startswith("/p/") or raw_path.startswith("/p/firmware/") or "//" in raw_path:
        return None
    path = raw_path.encode("latin-1").decode("utf-8", "replace")  # as werkzeug decodes it
    authenticated = path.startswith("/p/a/")
    file = path[len("/p/a/") :] if authenticated else path[len("/p/") :]
    if not file:
        return None
    return Fetch(
        file,
        authenticated,
        path,
        environ.get("REMOTE_ADDR") or "",
        environ.get("HTTP_USER_AGENT", ""),
        environ.get("HTTP_AUTHORIZATION"),
        partial(get_current_url, environ, host_only=True),
        environ.get("wsgi.url_scheme") in ("https", "wss"),
        environ,
    )
