"""Security headers on every response, a CSP nonce per request, the session key, local
redirects, and production checks.

The Content-Security-Policy allows scripts only from this site or inline with the request's
nonce (folium's map scripts are rendered inline with it), images from this site and the
configured tile server, and no framing.
"""

import os
import secrets
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import g, request

MIN_SECRET_KEY_LENGTH = 32
SECRET_KEY_FILE = "secret_key"
HSTS = "max-age=31536000; includeSubDomains"
#: Staff pages: never kept in a cache.
PRIVATE_BLUEPRINTS = {"auth", "dispatch"}
#: A URL rule variable that holds a secret (a manage, alert or support link): the page is
#: for its holder only, never cached, and its URL is never sent as a Referer.
SECRET_ARGUMENT = "token"


class InsecureConfiguration(RuntimeError):
    """The app refuses to start in production with a development setting."""


def csp_nonce():
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def tile_source(tile_url):
    """The CSP source of the tile server: '{s}.tile.example' becomes '*.tile.example'."""
    parts = urlsplit(tile_url)
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}" if host else ""


def content_security_policy(nonce, tile_url):
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self' 'unsafe-inline'",
        f"img-src 'self' data: blob: {tile_source(tile_url)}".strip(),  # blob: a draft's photo
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def add_security_headers(response, tile_url, https_only):
    """``https_only`` (the secure-cookie setting) also tells browsers to use HTTPS for a year."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce(), tile_url))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if https_only:
        headers.setdefault("Strict-Transport-Security", HSTS)
    secret_url = reached_by_secret()
    if secret_url or request.blueprint in PRIVATE_BLUEPRINTS:
        headers["Cache-Control"] = "no-store"
    if secret_url:
        headers["Referrer-Policy"] = "no-referrer"
    return response


def reached_by_secret():
    """Whether this request's URL rule has a secret token in it (any method, any answer)."""
    rule = request.url_rule
    return rule is not None and SECRET_ARGUMENT in rule.arguments


def local_path(target):
    """``target`` if it is a path on this site, else None: the only safe redirect after a
    login or a language switch.

    Browsers read ``//host``, ``/\\host`` and ``/<tab>/host`` (they drop tabs and line breaks)
    as another site, so a backslash, a control or space character, a scheme or a host,
    written plainly or percent-encoded, refuses the whole target.
    """
    if not isinstance(target, str):
        return None
    decoded = unquote(target)
    if all(_plain_local(text) for text in (target, decoded, unquote(decoded))):
        return target
    return None


def _plain_local(text):
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return False
    if any(char.isspace() or unicodedata.category(char)[0] in "CZ" for char in text):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def instance_secret_key(instance_path):
    """The key kept in the instance folder, made on first use (mode 0600).

    Every worker and restart shares it; a new instance folder gets a new one. The key is
    written to a temporary file and linked into place, so a worker starting at the same moment
    reads a complete key or makes the link fail and reads the winner's.
    """
    path = Path(instance_path) / SECRET_KEY_FILE
    if not path.exists():
        draft = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def check_production_config(config):
    """Refuse to run in production without a secret key set in the environment: a key in
    the instance folder would differ between servers and vanish with a rebuilt folder."""
    if config["ENV_NAME"] != "production":
        return
    key = config.get("SECRET_KEY") or ""
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise InsecureConfiguration(
            f"CIVIC_SECRET_KEY must be set to a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters in production, e.g. the output of "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'."
        )
