"""The application factory: the one way in, for the server, the CLI and the tests.

Flask and the web layer are imported inside ``create_app``, as in Flask's tutorial, so that
importing a lower layer (``app.storage``, ``app.reporting``...) loads only what it needs.
"""

import os
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def create_app(test_config=None):
    """Build the app; ``test_config`` (a dict) replaces the environment's settings."""
    from flask import Flask

    from app import cli, config
    from app.web import security, setup

    app = Flask(
        __name__,
        instance_relative_config=True,
        static_folder=str(STATIC_DIR),
        instance_path=os.environ.get("CIVIC_INSTANCE_PATH") or None,
    )
    app.config.from_mapping(config.defaults(), SESSION_COOKIE_SAMESITE="Lax")
    given = config.from_environment() if test_config is None else test_config
    app.config.update(given)
    app.config.update({**city_settings(app), **given})
    security.check_production_config(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = security.instance_secret_key(app.instance_path)
    setup.init_web(app)
    cli.register(app)
    return app


def city_settings(app):
    """The settings the loaded city folder stored in the database (``city load``): above
    the defaults, below the environment and a test's dict."""
    from app.storage import city, database_target

    return city.stored_settings(database_target(app))
