"""Access logs without secrets: gunicorn's logger class, and a filter for the dev server's log.

A URL can carry a secret: the reporter's manage link (``/reports/<id>/manage/<token>``), an
alert's or a support's confirm/unsubscribe link, an Open311 request token, an ``api_key`` or
``token`` in a query string, such a link inside a query value (``?next=/reports/7/manage/...``,
percent-encoded or not), and the same URLs again in a ``Referer``. Access logs are kept,
copied and read by more people than the database, so these are masked before a line is
written.

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
#: The path segments that a secret follows (every URL rule with a ``<token>``; a test
#: checks the app's rules against this list).
SECRET_AFTER = ("manage", "alerts", "tokens", "supports")
#: A secret path segment, wherever it is: in a path, or a URL inside a query value.
SECRET_SEGMENT = re.compile(
    rf"(/(?:{'|'.join(SECRET_AFTER)})/)[^/?#&\s]+?(?=(?:\.json|\.xml)?(?:[/?#&\s]|$))")
SECRET_PARAMETERS = {"api_key", "token"}
#: Characters a masked, re-quoted path keeps as they are.
PATH_SAFE = "/:@!$&'()*+,;=-._~[]"
#: The same in a query parameter, where ``&``, ``+``, ``?`` and ``#`` must stay encoded.
QUERY_SAFE = "/:@!$'()*,;=-._~[]"
#: Percent-encoding undone at most this many times ("%252F" is "/" encoded twice).
MAX_DECODINGS = 3
#: Atoms that hold a URL, a secret header, or the user agent, by gunicorn's atom name.
URL_ATOMS = ("f", "{referer}i", "{http_referer}e", "{raw_uri}e")
DROPPED_ATOMS = ("a", "{user-agent}i", "{http_user_agent}e", "{cookie}i", "{http_cookie}e",
                 "{authorization}i", "{http_authorization}e")


def mask_path(path):
    """The path with its secret segments masked; decoded first, so ``m%61nage`` is caught.

    >>> mask_path("/reports/7/manage/s3cr3t/update")
    '/reports/7/manage/[masked]/update'
    """
    return mask_secret_segments(path, PATH_SAFE)


def mask_query(query):
    """The query string with the values of ``api_key`` and ``token`` masked, and secret
    path segments masked wherever they are.

    >>> mask_query("api_key=abc&service_code=pothole")
    'api_key=[masked]&service_code=pothole'
    >>> mask_query("next=%2Freports%2F7%2Fmanage%2Fs3cr3t")
    'next=/reports/7/manage/[masked]'
    """
    parts = []
    for part in query.split("&"):
        name, equals, _value = part.partition("=")
        secret = equals and unquote_plus(name).strip().lower() in SECRET_PARAMETERS
        parts.append(f"{name}={MASK}" if secret else mask_secret_segments(part, QUERY_SAFE))
    return "&".join(parts)


def mask_secret_segments(text, safe):
    """``text`` unchanged if no secret segment shows once percent-encoding is undone, else
    its decoded form with them masked, re-quoted keeping ``safe`` characters."""
    decoded = text
    for _ in range(MAX_DECODINGS):
        decoded, previous = unquote(decoded), decoded
        if decoded == previous:
            break
    masked = SECRET_SEGMENT.sub(rf"\1{MASK}", decoded)
    return text if masked == decoded else quote(masked, safe=safe)


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
