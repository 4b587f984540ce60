"""Sending what the outbox holds: e-mail over SMTP and JSON webhooks over HTTP, with retries.

Each message is claimed for a lease, sent, then marked sent; a failure is recorded with the
next attempt time (back-off doubling up to a ceiling) until the attempts run out. A worker
that dies mid-send leaves the claim to expire, so the message is sent again: delivery is at
least once, and each message carries a stable id (Message-ID, X-Civic-Delivery) so a
receiver can drop a repeat.

The attempt is counted when the message is claimed, and any exception while sending one
message is recorded as that message's failed attempt: a hostile address, a receiver that
answers garbage or a message that kills the worker each time is given up after
``OUTBOX_MAX_ATTEMPTS`` and never holds up the messages behind it.

A webhook goes only to public addresses (unless ``WEBHOOK_ALLOW_PRIVATE``): its host name is
resolved and every address checked when the URL is set and again at each send, and the
connection goes to an address just checked, so a DNS answer that changes in between cannot
point it at the metadata service or the local network. Redirects are not followed.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import urlsplit

from app.errors import AppError, NotFound, ValidationError
from app.fields import check_email, is_http_url, is_safe_address
from app.messaging.message_headers import one_line
from app.storage import catalog
from app.storage import outbox as outbox_rows

SECURITY_MODES = ("none", "starttls", "tls")
ABANDONED = ("Given up: the worker stopped in the middle of each attempt to send this "
             "message (killed or crashed), so it is not tried again.")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The receiver did not take the message; the outbox will try again later."""


class Undeliverable(DeliveryFailed):
    """The message can never be sent as it is (e.g. a hostile address stored by an older
    version): it is marked failed at once."""


class UnusableWebhook(ValidationError):
    """A webhook URL that cannot be used as it is: not http(s), or leading to an address
    that is not public. (A host that does not resolve may come back: not this error.)"""


EXPECTED_FAILURES = (DeliveryFailed, OSError, smtplib.SMTPException, http.client.HTTPException,
                     AppError)


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    security: str
    username: str
    password: str
    sender: str
    timeout: float

    @classmethod
    def from_config(cls, config):
        return cls(config["MAIL_SERVER"], int(config["MAIL_PORT"]), config["MAIL_SECURITY"],
                   config["MAIL_USERNAME"], config["MAIL_PASSWORD"], config["MAIL_SENDER"],
                   float(config["MAIL_TIMEOUT_SECONDS"]))


@dataclass(frozen=True)
class WebhookSettings:
    secret: str
    timeout: float
    allow_private: bool = False

    @classmethod
    def from_config(cls, config):
        return cls(config["WEBHOOK_SECRET"], float(config["WEBHOOK_TIMEOUT_SECONDS"]),
                   bool(config["WEBHOOK_ALLOW_PRIVATE"]))


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    first_wait_seconds: float
    max_wait_seconds: float
    #: How long a claim lasts: a worker that dies mid-send leaves its message to the others
    #: after this, so it must outlast the slowest send (the SMTP or webhook timeout).
    lease_seconds: float = 300

    @classmethod
    def from_config(cls, config):
        return cls(int(config["OUTBOX_MAX_ATTEMPTS"]), float(config["OUTBOX_RETRY_SECONDS"]),
                   float(config["OUTBOX_RETRY_MAX_SECONDS"]),
                   float(config["OUTBOX_LEASE_SECONDS"]))

    def next_attempt(self, attempts, failed_at):
        """When to try again after ``attempts`` failed attempts; None once they run out.

        >>> policy = RetryPolicy(4, 60, 150)
        >>> start = datetime(2026, 1, 1, tzinfo=UTC)
        >>> [(policy.next_attempt(n, start) - start).seconds for n in (1, 2, 3)]
        [60, 120, 150]
        >>> policy.next_attempt(4, start) is None
        True
        """
        if attempts >= self.max_attempts:
            return None
        wait = min(self.first_wait_seconds * 2 ** (attempts - 1), self.max_wait_seconds)
        return failed_at + timedelta(seconds=wait)


@dataclass
class DeliveryRound:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __str__(self):
        return (f"{self.sent} sent, {self.retrying} failed and will be retried, "
                f"{self.failed} failed for good.")

    def count(self, outcome):
        setattr(self, outcome, getattr(self, outcome) + 1)


def deliver_due(db, mail, webhook, policy, clock=lambda: datetime.now(UTC), channels=None):
    """Send every message that is due now, each at most once per round; return the counts.

    ``channels`` maps another channel (``open311``) to the function that sends a message."""
    result, last_id = DeliveryRound(), 0
    result.failed += outbox_rows.give_up_abandoned(db, _stamp(clock()), policy.max_attempts,
                                                   ABANDONED)
    lease = timedelta(seconds=policy.lease_seconds)
    while (message := outbox_rows.claim_next(db, _stamp(clock()), _stamp(clock() + lease),
                                             policy.max_attempts, last_id)):
        last_id = message["id"]
        result.count(deliver_one(db, message, mail, webhook, policy, clock, channels))
    return result


def deliver_one(db, message, mail, webhook, policy, clock, channels=None):
    """Send a claimed message and record the outcome: "sent", "retrying" or "failed".

    Whatever goes wrong with this one message (not KeyboardInterrupt or SystemExit) is its
    failed attempt, so the worker goes on with the next one.
    """
    try:
        send(message, mail, webhook, channels)
    except Exception as error:
        if not isinstance(error, EXPECTED_FAILURES):
            log.exception("Unexpected error sending outbox message %s", message["id"])
        retry_at = None if isinstance(error, Undeliverable) else policy.next_attempt(
            message["attempts"], clock())
        outbox_rows.mark_attempt_failed(db, message["id"], _describe(error),
                                        retry_at and _stamp(retry_at))
        return "retrying" if retry_at else "failed"
    outbox_rows.mark_sent(db, message["id"], _stamp(clock()))
    return "sent"


def send(message, mail, webhook, channels=None):
    if message["channel"] == "email":
        send_email(message, mail)
    elif message["channel"] == "webhook":
        post_webhook(message, webhook)
    elif message["channel"] in (channels or {}):
        channels[message["channel"]](message)
    else:
        raise DeliveryFailed(f"No sender for the {message['channel']} channel in this worker.")


def send_email(message, mail):
    """Send by SMTP; the address is checked again (an older version stored looser ones) and
    every header value is put on one line."""
    if not is_safe_address(message["recipient"]):
        raise Undeliverable(f"{message['recipient']!r} is not a plain e-mail address, so "
                            "it is not used as a recipient.")
    if not mail.server:
        raise DeliveryFailed("No mail server is configured (MAIL_SERVER).")
    if mail.security not in SECURITY_MODES:
        raise DeliveryFailed(f"MAIL_SECURITY must be one of {', '.join(SECURITY_MODES)}.")
    email = EmailMessage()
    email["From"] = mail.sender
    email["To"] = message["recipient"]
    email["Subject"] = one_line(message["subject"])
    email["Date"] = formatdate(localtime=False, usegmt=True)
    for name, value in json.loads(message["headers"]).items():
        email[name] = one_line(value)
    email.set_content(message["body"])
    with _smtp_connection(mail) as smtp:
        smtp.send_message(email, to_addrs=[message["recipient"]])


def _smtp_connection(mail):
    if mail.security == "tls":
        return smtplib.SMTP_SSL(mail.server, mail.port, timeout=mail.timeout,
                                context=ssl.create_default_context())
    smtp = smtplib.SMTP(mail.server, mail.port, timeout=mail.timeout)
    try:
        if mail.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if mail.username:
            smtp.login(mail.username, mail.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def post_webhook(message, webhook):
    """POST the JSON body to the checked addresses of the URL's host; a 2xx is success and
    anything else, a redirect included, is a failed attempt."""
    url = message["recipient"]
    try:
        addresses = webhook_addresses(url, webhook.allow_private)
    except UnusableWebhook as refusal:
        raise Undeliverable(f"{refusal} It is not tried again: set a public URL with "
                            "'services set'.") from None
    body = message["body"].encode()
    headers = {"Content-Type": "application/json", "User-Agent": "civic-reporter outbox",
               "X-Civic-Delivery": message["dedupe_key"], **json.loads(message["headers"])}
    if webhook.secret:
        digest = hmac.new(webhook.secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Civic-Signature"] = f"sha256={digest}"
    parts = urlsplit(url)
    connection = _pinned_connection(parts, addresses, webhook.timeout)
    try:
        connection.request("POST", _path_of(parts), body=body,
                           headers={name: one_line(value) for name, value in headers.items()})
        response = connection.getresponse()
    finally:
        connection.close()
    _check_status(response)


def exchange(method, url, body, headers, webhook):
    """One HTTP request to a URL checked like a webhook's (public addresses only unless
    allowed, pinned, no redirects followed); return (status, response body bytes).

    A URL that can never be used raises :class:`Undeliverable`."""
    try:
        addresses = webhook_addresses(url, webhook.allow_private)
    except UnusableWebhook as refusal:
        raise Undeliverable(str(refusal)) from None
    parts = urlsplit(url)
    connection = _pinned_connection(parts, addresses, webhook.timeout)
    try:
        connection.request(method, _path_of(parts), body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _check_status(response):
    if 300 <= response.status < 400:
        raise DeliveryFailed(
            f"The webhook answered HTTP {response.status} (a redirect to "
            f"{response.getheader('Location')!r}); redirects are not followed: set the final "
            "URL with 'services set'.")
    if not 200 <= response.status < 300:
        raise DeliveryFailed(f"HTTP Error {response.status}: {response.reason}")


def webhook_addresses(url, allow_private):
    """The addresses the webhook URL's host resolves to, every one of them checked.

    Raises :class:`ValidationError` for a host that does not resolve, and
    :class:`UnusableWebhook` for a URL that is not http(s) or (unless ``allow_private``)
    any address that is not public.
    """
    parts = _http_url(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ValidationError("The webhook's host %(host)r could not be found.",
                              host=parts.hostname) from None
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    refused = [a for a in addresses if not (allow_private or is_public_address(a))]
    if refused:
        raise UnusableWebhook(
            "The webhook %(url)r leads to %(address)s, a private, loopback, link-local or "
            "reserved address: only public addresses receive webhooks "
            "(WEBHOOK_ALLOW_PRIVATE allows others).", url=url, address=refused[0])
    return addresses


def is_public_address(text):
    """Whether an IP address is public: not private, loopback, link-local, multicast,
    reserved or unspecified, nor an IPv6 form of such an IPv4 address.

    >>> [is_public_address(a) for a in ("93.184.215.14", "169.254.169.254", "::ffff:10.0.0.1")]
    [True, False, False]
    """
    address = ipaddress.ip_address(text.split("%", 1)[0])
    embedded = _embedded_ipv4(address)
    if embedded is not None and not is_public_address(str(embedded)):
        return False
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_multicast or address.is_reserved or address.is_unspecified)


def _embedded_ipv4(address):
    """The IPv4 address inside an IPv6 one (mapped, 6to4, Teredo, NAT64), if any."""
    if address.version == 4:
        return None
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]


def _http_url(url):
    if not is_http_url(url):
        raise UnusableWebhook("The webhook must be an http or https address; got %(url)r.",
                              url=url)
    return urlsplit(url)


class _PinnedConnection(http.client.HTTPConnection):
    """Connects to addresses checked beforehand instead of resolving the host again."""

    addresses = ()

    def connect(self):
        self.sock = _connect_first(self.addresses, self.port, self.timeout)


class _PinnedTLSConnection(http.client.HTTPSConnection, _PinnedConnection):
    """The same over TLS: HTTPSConnection wraps the pinned socket and checks the
    certificate against the URL's host name."""


def _pinned_connection(parts, addresses, timeout):
    if parts.scheme == "https":
        connection = _PinnedTLSConnection(parts.hostname, parts.port, timeout=timeout,
                                          context=ssl.create_default_context())
    else:
        connection = _PinnedConnection(parts.hostname, parts.port, timeout=timeout)
    connection.addresses = addresses
    return connection


def _connect_first(addresses, port, timeout):
    """A socket to the first of ``addresses`` that answers; the last error if none does."""
    error = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as failure:
            error = failure
    raise error


def _path_of(parts):
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def set_service_delivery(db, code, email, webhook, allow_private=False):
    """Where a service's reports go: an e-mail address, a webhook URL, both or neither.

    ``None`` keeps the current value and an empty string removes it. A webhook must lead to
    public addresses only, unless ``allow_private`` (the WEBHOOK_ALLOW_PRIVATE setting).
    """
    current = catalog.services_by_code(db).get(code)
    if current is None:
        raise NotFound("There is no service %(code)r.", code=code)
    email = current["email"] if email is None else check_email(email)
    webhook = current["webhook_url"] if webhook is None else _webhook_url(webhook,
                                                                          allow_private)
    with db.atomic():
        catalog.set_service_delivery(db, code, email, webhook)


def _webhook_url(url, allow_private):
    url = url.strip()
    if url:
        webhook_addresses(url, allow_private)
    return url or None


def _describe(error):
    return f"{type(error).__name__}: {error}"


def _stamp(moment):
    return moment.isoformat(timespec="seconds")
