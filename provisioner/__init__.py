"""provisioner: provisioning and device-management server for hosted business telephony."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask is imported by create_app only: FreeSWITCH imports this package too
    from flask import Flask

__version__ = "0.1.0"


def create_app(
    config: Mapping[str, Any] | None = None, instance_path: str | None = None, http: bool = True
) -> Flask:
    """Build the app: configuration, store, secrets, then the blueprints by audience.

    ``instance_path`` defaults to ``$PROVISIONER_INSTANCE`` or Flask's default (``instance``
    beside the package in a checkout). ``http`` False leaves the blueprints out (the test
    runner's and `flask --app provisioner`'s commands need none; the `provisioner` command's
    own run without Flask, on provisioner.app_core's ``CommandLineApp``).
    """
    from flask import Flask

    from provisioner import cli, pairing
    from provisioner.app_core import prepare
    from provisioner.config import instance_path as instance_folder
    from provisioner.config import load_config

    app = Flask(
        __name__, instance_relative_config=True, instance_path=instance_folder(instance_path)
    )
    load_config(app, config)
    if http:
        answer_phones_directly(app)  # inside the proxy and framing layers below
    trust_proxies(app)
    if http:  # the command line's other commands answer no request (and import no HTTP side)
        refuse_ambiguous_length(app)
    prepare(app)  # logs, the firmware warning, the instance folder, store, secrets
    if http:  # what only answering requests needs: limits, nonces, the timeline's flush
        from provisioner.http import register_blueprints
        from provisioner.phones import shared_files
        from provisioner.security import nonces, ratelimit

        ratelimit.init_app(app)
        nonces.init_app(app)  # Digest answers on /p/a/ (after the store: its home or fallback)
        shared_files.init_app(app)  # paired phones' files made once for all workers (Redis)
        pairing.init_app(app)
        register_blueprints(app)
    cli.init_app(app)  # every command, from provisioner.cli.all_commands
    return app


def answer_phones_directly(app: Flask) -> None:
    """Phones' GETs go from the WSGI server to their answer, past Flask's dispatch."""
    from provisioner.http.phone_fast_path import PhoneFastPath

    app.wsgi_app = PhoneFastPath(app, app.wsgi_app)  # type: ignore[method-assign]


def refuse_ambiguous_length(app: Flask) -> None:
    """Answer 400 to a request with both Content-Length and Transfer-Encoding (the outermost
    layer, so nothing behind it reads such a body); a body left unread is drained."""
    from provisioner.http.framing import DrainUnreadBody, RefuseAmbiguousLength

    app.wsgi_app = RefuseAmbiguousLength(DrainUnreadBody(app.wsgi_app))  # type: ignore[method-assign]


def trust_proxies(app: Flask) -> None:
    """Take the client's address from PROXY_HOPS trusted proxies' X-Forwarded-* headers."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
