"""The technicians' page at ``/t/``: sign in with a token, pick a site, pair, watch, swap.

Server-rendered templates with a little progressive JavaScript (the MAC check as one types,
the camera scan, polling the live state); every asset is served from ``static/``.
"""

from __future__ import annotations

from flask import Flask

from provisioner.http.technicians import actions, pages, signin
from provisioner.http.technicians.blueprint import bp

__all__ = ["actions", "bp", "init_app", "pages"]


def init_app(app: Flask) -> None:
    """The session and sign-in limiter, then the blueprint."""
    signin.init_app(app)
    app.register_blueprint(bp)
