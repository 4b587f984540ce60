"""Every setting once: its name, default and a one-line help.

In production each can be set from the environment with the ``CIVIC_`` prefix, e.g.
``CIVIC_TILE_URL``. Tests pass a dict to ``create_app``. The README lists them all (a test
checks it).
"""

import json
import os
from dataclasses import dataclass

ENV_PREFIX = "CIVIC_"


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str


SETTINGS = [
    Setting("ENV_NAME", "development",
            "development or production; production refuses to start without SECRET_KEY."),
    Setting("SECRET_KEY", "",
            "Signs session cookies; empty: a random key kept in the instance folder's "
            "secret_key file (production requires a value)."),
    Setting("SESSION_COOKIE_SECURE", False,
            "Send cookies over HTTPS only; turn on when the site is served over HTTPS."),
    Setting("DATABASE", "civic.sqlite3", "SQLite file, relative to the instance folder."),
    Setting("DATABASE_URL", "",
            "postgresql://... runs on PostgreSQL + PostGIS (several app servers over one "
            "database; rate limits counted in it too); empty or sqlite:///FILE: the SQLite "
            "file."),
    Setting("PHOTO_STORE", "photos",
            "Folder for stored photos, relative to the instance folder; may be a shared mount "
            "for several app servers (CIVIC_PHOTO_DIR, its former name, is still read)."),
    Setting("MAX_CONTENT_LENGTH", 20 * 1024 * 1024,
            "Largest request body in bytes; larger uploads get 413."),
    Setting("MAX_PHOTOS", 3, "Most photos attached to one report."),
    Setting("STAGED_PHOTO_HOURS", 24,
            "Photos uploaded by the form before its report is sent are kept this long; "
            "'photos gc' then removes them."),
    Setting("STAGED_PHOTOS_PER_BROWSER", 12,
            "Most photos one browser may have waiting (uploaded, its report not yet sent)."),
    Setting("MY_LINKS_RATE_LIMIT", "10 per hour",
            "Most requests for one's private links by e-mail (/reports/mine) per client "
            "address."),
    Setting("PHOTO_STAGING_RATE_LIMIT", "60 per hour",
            "Most photos uploaded ahead of their report (the form's POST /api/photos) per "
            "client address."),
    Setting("MAX_PHOTO_PIXELS", 25_000_000,
            "Largest photo in pixels (width x height): every phone's usual mode, up to 24 MP; "
            "bigger files are refused before decoding."),
    Setting("PHOTO_CACHE_SECONDS", 86400,
            "How long browsers and proxies may keep a report photo; a hidden photo disappears "
            "from caches within this time."),
    Setting("PHOTO_POSITION_RATE_LIMIT", "60 per hour",
            "Most photo-position look-ups (the report form reading a photo's GPS) per client "
            "address."),
    Setting("DESCRIPTION_MAX_LENGTH", 5000, "Longest report description, in characters."),
    Setting("TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "Map tile server URL template; the only outside host our pages contact."),
    Setting("MAP_CENTRE", "",
            "Where the maps of the whole city open, as 'lon,lat' (with MAP_ZOOM); empty: "
            "they fit the service areas in force."),
    Setting("MAP_ZOOM", 0,
            "The zoom (1 to 19) the maps of the whole city open at, with MAP_CENTRE."),
    Setting("TILE_ATTRIBUTION",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
            "contributors",
            "Attribution shown on the map for the tiles."),
    Setting("MAP_POINT_LIMIT", 2000,
            "Most reports the map API returns as points; above it, it returns clusters."),
    Setting("REPORT_RATE_LIMIT", "30 per hour",
            "Most new reports per client address, web form and Open311 together."),
    Setting("SUPPORT_RATE_LIMIT", "60 per hour",
            "Most \u201cme too\u201d supports per client address."),
    Setting("LOGIN_RATE_LIMIT", "10 per minute",
            "Most staff login attempts per client address (Flask-Limiter syntax)."),
    Setting("LOGIN_FAILURE_LIMIT", "20 per hour",
            "Most failed logins per staff account from browsers that never logged into it, "
            "and per browser that did; past it those logins get 429 until the window ends."),
    Setting("PROXY_HOPS", 0,
            "Proxies in front of the app trusted to say the client's address and scheme "
            "(X-Forwarded-For/-Proto); 0 trusts none."),
    Setting("EXPORT_RATE_LIMIT", "20 per hour",
            "Most filtered CSV/GeoJSON exports per client address (full exports are files)."),
    Setting("EXPORT_CONCURRENCY", 2,
            "Exports (full or filtered) being sent at once per worker process; more get 503."),
    Setting("EXPORT_MAX_AGE_SECONDS", 3600,
            "Age after which the full export files are regenerated."),
    Setting("RATE_LIMITS_ON", True, "Turns rate limiting on or off."),
    Setting("RATE_LIMIT_DATABASE", "rate-limits.sqlite3",
            "SQLite file, relative to the instance folder, where every worker counts the "
            "rate limits (on PostgreSQL, they are counted in its database instead)."),
    Setting("OPEN311_JURISDICTION", "city.example",
            "Open311 jurisdiction_id; requests naming another one get 404."),
    Setting("OPEN311_CONTACT", "311 team, 311@city.example",
            "Contact shown in the Open311 discovery document."),
    Setting("OPEN311_KEY_SERVICE", "Ask the 311 team for an API key.",
            "How to get an Open311 API key, shown in the discovery document."),
    Setting("OPEN311_KEY_RATE_LIMIT", "6000 per hour",
            "Default budget of each Open311 API key (its organisation's requests, counted "
            "across workers); 'apikeys create --rate' sets one per key."),
    Setting("OPEN311_FETCH_DAYS", 7,
            "'open311 fetch-updates' asks the cities' servers for the updates of this many "
            "past days (each is recorded once, however often it is read)."),
    Setting("OPEN311_FETCH_POLL_SECONDS", 300,
            "With 'open311 fetch-updates --forever', the pause between two rounds."),
    Setting("OPEN311_UPDATES_RATE_LIMIT", "60 per minute",
            "Most Open311 servicerequestupdates calls per client address."),
    Setting("CONTACT_RETENTION_MONTHS", 24,
            "Reporter e-mails and names older than this are anonymised by "
            "'privacy retention' (0 keeps them)."),
    Setting("UNCONFIRMED_DAYS", 7,
            "Alert requests and \u201cme too\u201d given with an e-mail, not confirmed within "
            "this many days, are deleted by 'privacy retention' (0 keeps them)."),
    Setting("BABEL_DEFAULT_LOCALE", "en",
            "Language used when neither the switcher nor the browser chooses one (en or fr)."),
    Setting("PUBLIC_URL", "http://127.0.0.1:5000",
            "The site's public address, for links in e-mails sent by the outbox worker."),
    Setting("MAIL_SERVER", "",
            "SMTP server that sends e-mail (empty: e-mails wait in the outbox, failing)."),
    Setting("MAIL_PORT", 25, "SMTP port (587 for STARTTLS, 465 for TLS)."),
    Setting("MAIL_SECURITY", "none",
            "none, starttls (upgrade the connection) or tls (TLS from the start)."),
    Setting("MAIL_USERNAME", "", "SMTP login, if the server needs one."),
    Setting("MAIL_PASSWORD", "", "SMTP password, if the server needs one."),
    Setting("TIME_ZONE", "UTC",
            "The city's IANA time zone (e.g. America/Los_Angeles): every time people read is "
            "shown in it, and dates in filters are its days; an unknown name stops start-up."),
    Setting("MAIL_SENDER", "Fix My City <no-reply@city.example>",
            "From address of every e-mail."),
    Setting("MAIL_TIMEOUT_SECONDS", 20, "How long to wait for the SMTP server."),
    Setting("WEBHOOK_SECRET", "",
            "Signs webhook bodies (HMAC-SHA256 in X-Civic-Signature) when set."),
    Setting("WEBHOOK_TIMEOUT_SECONDS", 10, "How long to wait for a webhook receiver."),
    Setting("WEBHOOK_ALLOW_PRIVATE", False,
            "Let webhooks go to private, loopback and link-local addresses (tests, an "
            "internal receiver); off, only public addresses receive them."),
    Setting("OUTBOX_MAX_ATTEMPTS", 12,
            "Attempts per e-mail or webhook before it is marked failed."),
    Setting("OUTBOX_RETRY_SECONDS", 60,
            "Wait after a first failed attempt; doubled after each further failure."),
    Setting("OUTBOX_RETRY_MAX_SECONDS", 3600, "Longest wait between two attempts."),
    Setting("OUTBOX_LEASE_SECONDS", 300,
            "How long a worker holds a message it is sending; a worker that dies leaves it "
            "to the others after this (keep it well above MAIL_TIMEOUT_SECONDS)."),
    Setting("OUTBOX_POLL_SECONDS", 5,
            "With 'outbox send --forever', the pause when nothing is due."),
    Setting("SUBSCRIPTION_RATE_LIMIT", "20 per hour",
            "Most alert subscriptions asked for per client address."),
    Setting("CONFIRMATIONS_PER_MAILBOX_PER_DAY", 3,
            "Most confirmation e-mails (alerts, follows, \u201cme too\u201d) one mailbox gets "
            "in a day, however its address is spelled; past it requests are answered the "
            "same but send nothing."),
    Setting("ALERT_MAX_RADIUS_M", 2000, "Largest radius of an area alert, in metres."),
    Setting("SITE_NAME", "Fix My City", "Name shown in page titles and the header."),
    Setting("DATA_LICENSE", "https://creativecommons.org/licenses/by/4.0/",
            "URL of the licence of the open data (reports, areas, statistics), shown on /data "
            "and in /data.jsonld."),
    Setting("DATA_ATTRIBUTION", "",
            "How reusers credit the open data; empty: the site's name (SITE_NAME)."),
]


def defaults():
    return {setting.name: setting.default for setting in SETTINGS}


def from_environment(environ=os.environ):
    """Settings given as ``CIVIC_NAME`` environment variables, parsed like their defaults."""
    values = {}
    for setting in SETTINGS:
        raw = environ.get(ENV_PREFIX + setting.name)
        if raw is not None:
            values[setting.name] = json.loads(raw) if isinstance(setting.default, int) else raw
    if environ.get("DATABASE_URL") and "DATABASE_URL" not in values:
        values["DATABASE_URL"] = environ["DATABASE_URL"]  # the name every host sets
    if environ.get(FORMER_PHOTO_SETTING) and "PHOTO_STORE" not in values:
        values["PHOTO_STORE"] = environ[FORMER_PHOTO_SETTING]  # a host set up before the rename
    return values


#: PHOTO_STORE's name until it became a store several servers may share: a host configured
#: with it keeps finding its photos.
FORMER_PHOTO_SETTING = ENV_PREFIX + "PHOTO_DIR"
