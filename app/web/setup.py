"""Wires the web layer into an app: proxies, security headers, URL converters, languages,
CSRF, rate limits, logins, the error handler and the blueprints."""

from pathlib import Path

from werkzeug.middleware.proxy_fix import ProxyFix

from app.reporting.areas import RouterCache
from app.storage import database_target, is_postgresql
from app.storage.rate_limits import SqliteCounters
from app.web import (
    alerts,
    api_limits,
    assets,
    auth,
    compression,
    data_catalogue,
    dispatch,
    handlers,
    hashed_static,
    i18n,
    local_time,
    maps,
    my_reports,
    open311,
    open311_partners,
    open_data,
    photo_staging,
    places,
    pwa,
    questions,
    reports,
    security,
    serving_log,
    stats,
    text_guard,
)
from app.web.db import close_db
from app.web.extensions import csrf, limiter
from app.web.links import RowIdConverter
from app.web.staff import login_manager

#: The blueprints; alerts, open_data, photo_staging and my_reports add their views to the
#: reports one.
BLUEPRINTS = (reports.bp, auth.bp, dispatch.bp, open311.bp, places.bp, questions.bp, stats.bp,
              data_catalogue.bp, pwa.bp)
VIEWS_ON_REPORTS = (alerts, open_data, photo_staging, my_reports)
#: Views added to the Open311 blueprint by a module of their own.
VIEWS_ON_OPEN311 = (open311_partners,)


def trust_proxies(app, hops):
    """Take the client's address and scheme from the last ``hops`` proxies' X-Forwarded-For
    and X-Forwarded-Proto, so rate limits count each client, not the proxy."""
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0,
                                x_prefix=0)


def init_rate_limits(app):
    """Counters every worker shares: on PostgreSQL in its main database, so that every app
    server shares them too (app.storage.rate_limits.PostgresqlCounters); on SQLite in a file
    of their own."""
    target = database_target(app)
    app.config["RATELIMIT_STORAGE_URI"] = (
        str(target) if is_postgresql(target)
        else SqliteCounters.uri(Path(app.instance_path) / app.config["RATE_LIMIT_DATABASE"]))
    app.config["RATELIMIT_SWALLOW_ERRORS"] = True  # broken counters must not stop reports
    limiter.init_app(app)


def init_web(app):
    trust_proxies(app, app.config["PROXY_HOPS"])
    compression.register(app)  # first registered, so it compresses the final answer
    hashed_static.register(app)
    app.jinja_env.globals["csp_nonce"] = security.csp_nonce
    app.after_request(lambda response: security.add_security_headers(
        response, app.config["TILE_URL"], app.config["SESSION_COOKIE_SECURE"]))
    app.url_map.converters["id"] = RowIdConverter
    app.extensions["router_cache"] = RouterCache()
    app.teardown_appcontext(close_db)
    app.add_url_rule(
        "/vendor/<package>/<version>/<path:filename>", view_func=assets.vendor_file
    )
    local_time.register(app)
    maps.MapView.from_settings(app.config)  # a bad MAP_CENTRE or MAP_ZOOM stops start-up
    i18n.babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.register(app)
    csrf.init_app(app)
    init_rate_limits(app)
    login_manager.init_app(app)
    handlers.register(app)
    app.before_request(text_guard.refuse_unsafe_text)
    app.after_request(lambda response: api_limits.add_retry_after(response, limiter))
    serving_log.mask_development_log()
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
