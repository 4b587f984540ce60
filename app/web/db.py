"""The one module that owns the connection: one sqlite-utils Database per request.

It also hands out the other instance resources (the router, the photo store) and runs
streamed responses on a connection of their own.
"""

from pathlib import Path

from flask import Response, current_app, g, stream_with_context

from app.reporting.photos import PhotoStore
from app.storage import database_path, open_database


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


def get_photo_store():
    return PhotoStore(Path(current_app.instance_path) / current_app.config["PHOTO_DIR"])


def streamed(make_chunks, mimetype, filename):
    """A download streamed from ``make_chunks(db)`` on its own connection, closed at the end.

    The request's connection is closed on teardown, which may come before a long download
    ends; this one lives exactly as long as the stream.
    """
    path = database_path(current_app)

    def generate():
        db = open_database(path)
        try:
            yield from make_chunks(db)
        finally:
            db.close()

    response = Response(stream_with_context(generate()), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
