"""Text answers compressed (zstd, brotli or gzip, as the browser accepts) by Flask-Compress.

Pages, scripts, styles, JSON and GeoJSON are mostly repeated words and shrink several times,
which is what a phone on a slow network waits for. Images are already compressed and are left
as they are; so are answers to requests that do not ask for it (``Accept-Encoding``).

Streamed answers (the CSV and GeoJSON exports, photos) stay uncompressed streams: they keep
their own limits on slow readers, and compressing a stream would leave its file to the garbage
collector. Scripts and styles are small files read into memory instead (``in_memory``).
"""

from flask_compress import Compress

#: Text types this app serves that Flask-Compress leaves out by default.
EXTRA_TYPES = ("application/geo+json",)

compress = Compress()


def register(app):
    app.config["COMPRESS_STREAMS"] = False
    compress.init_app(app)
    app.config["COMPRESS_MIMETYPES"] = [*app.config["COMPRESS_MIMETYPES"], *EXTRA_TYPES]
    compress.compress_mimetypes_set.update(EXTRA_TYPES)


def in_memory(response):
    """A file answer read into memory (the file closed), so that it can be compressed."""
    response.direct_passthrough = False
    response.make_sequence()
    return response
