"""HTTP blueprints, one per audience, and the JSON error answers they share."""

from __future__ import annotations

from flask import Flask

from provisioner.http import (
    api,
    errors,
    firmware,
    firmware_api,
    freeswitch,
    health,
    home,
    metrics,
    network,
    phones,
    phones_api,
    routers_api,
    technicians,
    zerotouch,
)


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint and the error handlers."""
    errors.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(freeswitch.bp)
    app.register_blueprint(network.bp)
    app.register_blueprint(phones.bp)
    app.register_blueprint(phones_api.bp)
    app.register_blueprint(firmware.bp)
    app.register_blueprint(firmware_api.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(routers_api.bp)
    app.register_blueprint(zerotouch.bp)
    technicians.init_app(app)
