"""Static files under names that carry their content hash, cached for a year.

``url_for('static', filename='js/map.js')`` gives ``/static/js/map.<hash>.js``: a changed
file gets a new URL, so browsers may keep every URL for a year without asking again. The
plain name (``/static/js/map.js``) and a hash that no longer matches still answer the current
file, but browsers must revalidate it, so a page cached before a release never pins an old
file for a year.
"""

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from flask import current_app, send_from_directory
from werkzeug.security import safe_join

from app.web.compression import precompressed

ONE_YEAR = 365 * 24 * 3600
DIGEST_LENGTH = 12
HASHED_NAME = re.compile(
    rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{DIGEST_LENGTH}}})(?P<suffix>\.[A-Za-z0-9]+)$")


@lru_cache(maxsize=256)
def _digest(path, mtime_ns, size):
    """The content hash of a file, computed once per version of the file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:DIGEST_LENGTH]


def content_digest(folder, filename):
    """The short sha256 of ``folder/filename``, or None when there is no such file."""
    path = safe_join(folder, filename)
    if path is None or not Path(path).is_file():
        return None
    stat = Path(path).stat()
    return _digest(path, stat.st_mtime_ns, stat.st_size)


def hashed_name(folder, filename):
    """``js/map.js`` as ``js/map.<hash>.js``; unchanged when the file does not exist.

    >>> import tempfile, pathlib
    >>> folder = tempfile.mkdtemp()
    >>> _ = (pathlib.Path(folder) / "app.css").write_text("body {}")
    >>> hashed_name(folder, "app.css")
    'app.62368a1a2925.css'
    """
    digest = content_digest(folder, filename)
    stem, dot, suffix = filename.rpartition(".")
    if digest is None or not dot or "/" in suffix:
        return filename
    return f"{stem}.{digest}.{suffix}"


def add_content_hash(endpoint, values):
    """A URL default: every ``url_for('static', ...)`` names the file by its content."""
    if endpoint == "static" and "filename" in values:
        values["filename"] = hashed_name(current_app.static_folder, values["filename"])


def static_file(filename):
    """Serve a static file by its hashed or its plain name."""
    folder = current_app.static_folder
    match = HASHED_NAME.match(filename)
    plain = f"{match['stem']}{match['suffix']}" if match else filename
    current = match is not None and match["digest"] == content_digest(folder, plain)
    response = send_from_directory(folder, plain, max_age=ONE_YEAR if current else 0)
    if current:
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    return precompressed(response, Path(folder) / plain)


def register(app):
    app.url_defaults(add_content_hash)
    app.view_functions["static"] = static_file
