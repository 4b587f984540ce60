"""The one module that owns the connection: one sqlite-utils Database per request."""

from pathlib import Path

from flask import current_app, g

from app.storage import open_database


def database_path(app):
    return Path(app.instance_path) / app.config["DATABASE"]


def get_db():
    """The request's database, opened on first use and closed on teardown."""
    if "db" not in g:
        g.db = open_database(database_path(current_app))
    return g.db


def close_db(_exception=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def get_router():
    """The router of the current boundary version (rebuilt when a new version is loaded)."""
    return current_app.extensions["router_cache"].get(get_db())
