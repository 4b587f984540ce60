"""Text answers compressed (zstd, brotli or gzip, as the browser accepts) by Flask-Compress.

Scripts, styles, JSON and GeoJSON are mostly repeated words and shrink several times, which
is what a phone on a slow network waits for. Images are already compressed and are left as
they are; so are answers to requests that do not ask for it (``Accept-Encoding``).

HTML pages are not compressed: every page carries the session's form token next to text
taken from the request (filters, searches), and a compressed page's size would then tell an
eavesdropper, guess by guess, how much of a guess matches the token (BREACH). Pages are a
few kilobytes; what phones wait for is the scripts and the map's data.

Streamed answers (the CSV and GeoJSON exports, photos) stay uncompressed streams: they keep
their own limits on slow readers, and compressing a stream would leave its file to the garbage
collector. Our static files and the vendored libraries never change under their URL, so each
is compressed once at brotli's or gzip's best (``precompressed``), which saves a fifth more
than the quick levels used for pages.
"""

import gzip
from functools import lru_cache
from pathlib import Path

import brotli
from flask import request
from flask_compress import Compress

#: Text types this app serves that Flask-Compress leaves out by default.
EXTRA_TYPES = ("application/geo+json",)
#: Answers that carry the session's form token beside request text: never compressed.
SECRET_BEARING_TYPES = ("text/html",)
#: The file encodings kept, best first, as named in Accept-Encoding.
FILE_ENCODINGS = ("br", "gzip")

compress = Compress()


def register(app):
    app.config["COMPRESS_STREAMS"] = False
    compress.init_app(app)
    app.config["COMPRESS_MIMETYPES"] = [
        *(kind for kind in app.config["COMPRESS_MIMETYPES"] if kind not in SECRET_BEARING_TYPES),
        *EXTRA_TYPES]
    compress.compress_mimetypes_set.update(EXTRA_TYPES)
    compress.compress_mimetypes_set.difference_update(SECRET_BEARING_TYPES)


def in_memory(response):
    """A file answer read into memory (the file closed), so that it can be compressed."""
    response.direct_passthrough = False
    response.make_sequence()
    return response


@lru_cache(maxsize=128)
def _encoded(path, mtime_ns, encoding):
    data = Path(path).read_bytes()
    if encoding == "br":
        return brotli.compress(data, quality=11)
    return gzip.compress(data, compresslevel=9, mtime=0)


def accepted_encoding():
    accepted = {part.split(";")[0].strip() for part in
                request.headers.get("Accept-Encoding", "").lower().split(",")}
    return next((encoding for encoding in FILE_ENCODINGS if encoding in accepted), None)


def precompressed(response, path):
    """A file's 200 answer, compressed once per version of the file when the browser accepts
    it and the type is text; otherwise read into memory for Flask-Compress to consider."""
    encoding = accepted_encoding()
    if (response.status_code != 200 or encoding is None
            or response.mimetype not in compress.compress_mimetypes_set):
        return in_memory(response)
    response.close()
    response.direct_passthrough = False
    response.set_data(_encoded(str(path), Path(path).stat().st_mtime_ns, encoding))
    response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    etag, weak = response.get_etag()
    if etag:
        response.set_etag(f"{etag}-{encoding}", weak=weak)
    return response.make_conditional(request)  # 304 when the browser has this encoding
