"""The application factory: the one way in, for the server, the CLI and the tests."""

import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from app import assets, cli, config, handlers, i18n, security, serving_log
from app.areas import RouterCache
from app.auth import login_manager
from app.db import close_db
from app.extensions import csrf, limiter
from app.ids import SQLITE_MAX_INTEGER
from app.storage.rate_limits import SqliteCounters

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


class RowIdConverter(IntegerConverter):
    """A row id in a URL: 1 to SQLite's largest integer; anything else is a 404."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=SQLITE_MAX_INTEGER)


def trust_proxies(app, hops):
    """Take the client's address and scheme from the last ``hops`` proxies' X-Forwarded-For
    and X-Forwarded-Proto, so rate limits count each client, not the proxy."""
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0,
                                x_prefix=0)


def create_app(test_config=None):
    """Build the app; ``test_config`` (a dict) replaces the environment's settings."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        static_folder=str(STATIC_DIR),
        instance_path=os.environ.get("CIVIC_INSTANCE_PATH") or None,
    )
    app.config.from_mapping(config.defaults(), SESSION_COOKIE_SAMESITE="Lax")
    app.config.update(config.from_environment() if test_config is None else test_config)
    security.check_production_config(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = security.instance_secret_key(app.instance_path)
    trust_proxies(app, app.config["PROXY_HOPS"])
    app.jinja_env.globals["csp_nonce"] = security.csp_nonce
    app.after_request(lambda response: security.add_security_headers(
        response, app.config["TILE_URL"], app.config["SESSION_COOKIE_SECURE"]))

    app.url_map.converters["id"] = RowIdConverter
    app.extensions["router_cache"] = RouterCache()
    app.teardown_appcontext(close_db)
    app.add_url_rule(
        "/vendor/<package>/<version>/<path:filename>", view_func=assets.vendor_file
    )
    i18n.babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.register(app)
    csrf.init_app(app)
    app.config["RATELIMIT_STORAGE_URI"] = SqliteCounters.uri(
        Path(app.instance_path) / app.config["RATE_LIMIT_DATABASE"])
    app.config["RATELIMIT_SWALLOW_ERRORS"] = True  # broken counters must not stop reports
    limiter.init_app(app)
    login_manager.init_app(app)
    handlers.register(app)
    cli.register(app)
    serving_log.mask_development_log()

    from app import auth, dispatch, open311, reports

    for blueprint in (reports.bp, auth.bp, dispatch.bp, open311.bp):
        app.register_blueprint(blueprint)
    return app
