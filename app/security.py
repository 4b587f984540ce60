"""Security headers on every response, a CSP nonce per request, and production checks.

The Content-Security-Policy allows scripts only from this site or inline with the request's
nonce (folium's map scripts are rendered inline with it), images from this site and the
configured tile server, and no framing.
"""

import secrets
from urllib.parse import urlsplit

from flask import g

MIN_SECRET_KEY_LENGTH = 32


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
        f"img-src 'self' data: {tile_source(tile_url)}".strip(),
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def add_security_headers(response, tile_url):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce(), tile_url))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    return response


def check_production_config(config):
    """Refuse to run in production with the development secret key."""
    if config["ENV_NAME"] != "production":
        return
    key = config.get("SECRET_KEY") or ""
    if key == "dev" or len(key) < MIN_SECRET_KEY_LENGTH:
        raise InsecureConfiguration(
            f"CIVIC_SECRET_KEY must be set to a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters in production, e.g. the output of "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'."
        )
