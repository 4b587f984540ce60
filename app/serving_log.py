"""Access logs without secrets: gunicorn's logger class, and a filter for the dev server's log.

A URL can carry a secret: the reporter's manage link (``/reports/<id>/manage/<token>``), an
alert's confirm/unsubscribe link, an Open311 request token, an ``api_key`` or ``token`` in a
query string, and the same URLs again in a ``Referer``. Access logs are kept, copied and
read by more people than the database, so these are masked before a line is written.

What a line keeps (see the README's production section): the client address, for abuse
handling and rate-limit disputes; the time, request, status, size and duration. What it
drops: the user agent (a fingerprint that abuse handling rarely needs), cookies and
authorization headers. ``access_log_format`` cannot do this (it only picks atoms), hence a
``logger_class`` that rewrites the atoms themselves.
"""

import logging
import re
from urllib.parse import quote, unquote, unquote_plus

from gunicorn.glogging import Logger

MASK = "[masked]"
#: A path segment that is a secret: the one after these segments.
SECRET_SEGMENT = re.compile(r"(/(?:manage|alerts|tokens)/)[^/?#]+?(?=\.json$|\.xml$|/|$)")
SECRET_PARAMETERS = {"api_key", "token"}
#: Characters a masked, re-quoted path keeps as they are.
PATH_SAFE = "/:@!$&'()*+,;=-._~[]"
#: Atoms that hold a URL, a secret header, or the user agent, by gunicorn's atom name.
URL_ATOMS = ("f", "{referer}i", "{http_referer}e", "{raw_uri}e")
DROPPED_ATOMS = ("a", "{user-agent}i", "{http_user_agent}e", "{cookie}i", "{http_cookie}e",
                 "{authorization}i", "{http_authorization}e")


def mask_path(path):
    """The path with its secret segments masked; decoded first, so ``m%61nage`` is caught.

    >>> mask_path("/reports/7/manage/s3cr3t/update")
    '/reports/7/manage/[masked]/update'
    """
    decoded = unquote(path)
    masked = SECRET_SEGMENT.sub(rf"\1{MASK}", decoded)
    return path if masked == decoded else quote(masked, safe=PATH_SAFE)


def mask_query(query):
    """The query string with the values of ``api_key`` and ``token`` masked.

    >>> mask_query("api_key=abc&service_code=pothole")
    'api_key=[masked]&service_code=pothole'
    """
    parts = []
    for part in query.split("&"):
        name, equals, _value = part.partition("=")
        secret = equals and unquote_plus(name).strip().lower() in SECRET_PARAMETERS
        parts.append(f"{name}={MASK}" if secret else part)
    return "&".join(parts)


def mask_url(url):
    """A request target or Referer (path, or absolute URL) with its secrets masked."""
    if not url or url == "-":
        return url
    before_query, question, query = url.partition("?")
    return mask_path(before_query) + question + mask_query(query)


def mask_request_line(line):
    """``GET /path?query HTTP/1.1`` with the target masked."""
    method, space, rest = line.partition(" ")
    target, space_after, protocol = rest.rpartition(" ")
    if not space or not space_after:
        return mask_url(line)
    return f"{method} {mask_url(target)} {protocol}"


def masked_atoms(atoms):
    """gunicorn's log atoms with secrets masked and the user agent and cookies dropped."""
    atoms = dict(atoms)
    atoms["r"] = mask_request_line(atoms.get("r") or "")
    atoms["U"] = mask_path(atoms.get("U") or "")
    atoms["q"] = mask_query(atoms.get("q") or "")
    for name in URL_ATOMS:
        if name in atoms:
            atoms[name] = mask_url(atoms[name])
    for name in ("{path_info}e", "{query_string}e"):
        if name in atoms:
            atoms[name] = mask_url(atoms[name])
    for name in DROPPED_ATOMS:
        atoms[name] = "-"
    return atoms


class MaskingLogger(Logger):
    """gunicorn's logger, writing access lines from :func:`masked_atoms`."""

    def atoms(self, resp, req, environ, request_time):
        return masked_atoms(super().atoms(resp, req, environ, request_time))


class MaskingFilter(logging.Filter):
    """Masks the request line in the development server's (werkzeug's) access log."""

    def filter(self, record):
        if isinstance(record.args, tuple):
            record.args = tuple(mask_request_line(a) if isinstance(a, str) else a
                                for a in record.args)
        return True


def mask_development_log():
    """Install :class:`MaskingFilter` on werkzeug's logger, once."""
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, MaskingFilter) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(MaskingFilter())
