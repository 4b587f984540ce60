"""Sending what the outbox holds: e-mail over SMTP and JSON webhooks over HTTP, with retries.

Each message is claimed for a lease, sent, then marked sent; a failure is recorded with the
next attempt time (back-off doubling up to a ceiling) until the attempts run out. A worker
that dies mid-send leaves the claim to expire, so the message is sent again: delivery is at
least once, and each message carries a stable id (Message-ID, X-Civic-Delivery) so a
receiver can drop a repeat.
"""

import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import urlsplit

from app.errors import NotFound, ValidationError
from app.storage import catalog
from app.storage import outbox as outbox_rows
from app.submit import check_email

LEASE = timedelta(minutes=5)
SECURITY_MODES = ("none", "starttls", "tls")


class DeliveryFailed(Exception):
    """The receiver did not take the message; the outbox will try again later."""


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

    @classmethod
    def from_config(cls, config):
        return cls(config["WEBHOOK_SECRET"], float(config["WEBHOOK_TIMEOUT_SECONDS"]))


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    first_wait_seconds: float
    max_wait_seconds: float

    @classmethod
    def from_config(cls, config):
        return cls(int(config["OUTBOX_MAX_ATTEMPTS"]), float(config["OUTBOX_RETRY_SECONDS"]),
                   float(config["OUTBOX_RETRY_MAX_SECONDS"]))

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


def deliver_due(db, mail, webhook, policy, clock=lambda: datetime.now(UTC)):
    """Send every message that is due now, each at most once per round; return the counts."""
    result, last_id = DeliveryRound(), 0
    while (message := outbox_rows.claim_next(db, _stamp(clock()), _stamp(clock() + LEASE),
                                             last_id)):
        last_id = message["id"]
        try:
            send(message, mail, webhook)
        except (OSError, smtplib.SMTPException, DeliveryFailed) as error:
            retry_at = policy.next_attempt(message["attempts"] + 1, clock())
            outbox_rows.mark_attempt_failed(db, message["id"], _describe(error),
                                            retry_at and _stamp(retry_at))
            if retry_at:
                result.retrying += 1
            else:
                result.failed += 1
        else:
            outbox_rows.mark_sent(db, message["id"], _stamp(clock()))
            result.sent += 1
    return result


def send(message, mail, webhook):
    if message["channel"] == "email":
        send_email(message, mail)
    else:
        post_webhook(message, webhook)


def send_email(message, mail):
    if not mail.server:
        raise DeliveryFailed("No mail server is configured (MAIL_SERVER).")
    if mail.security not in SECURITY_MODES:
        raise DeliveryFailed(f"MAIL_SECURITY must be one of {', '.join(SECURITY_MODES)}.")
    email = EmailMessage()
    email["From"] = mail.sender
    email["To"] = message["recipient"]
    email["Subject"] = message["subject"]
    email["Date"] = formatdate(localtime=False, usegmt=True)
    for name, value in json.loads(message["headers"]).items():
        email[name] = value
    email.set_content(message["body"])
    with _smtp_connection(mail) as smtp:
        smtp.send_message(email)


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
    body = message["body"].encode()
    headers = {"Content-Type": "application/json", "User-Agent": "civic-reporter outbox",
               "X-Civic-Delivery": message["dedupe_key"], **json.loads(message["headers"])}
    if webhook.secret:
        digest = hmac.new(webhook.secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Civic-Signature"] = f"sha256={digest}"
    request = urllib.request.Request(message["recipient"], data=body, headers=headers,
                                     method="POST")
    with urllib.request.urlopen(request, timeout=webhook.timeout) as response:
        if not 200 <= response.status < 300:
            raise DeliveryFailed(f"The webhook answered HTTP {response.status}.")


def set_service_delivery(db, code, email, webhook):
    """Where a service's reports go: an e-mail address, a webhook URL, both or neither.

    ``None`` keeps the current value and an empty string removes it.
    """
    current = catalog.services_by_code(db).get(code)
    if current is None:
        raise NotFound("There is no service %(code)r.", code=code)
    email = current["email"] if email is None else check_email(email)
    webhook = current["webhook_url"] if webhook is None else _webhook_url(webhook)
    with db.atomic():
        catalog.set_service_delivery(db, code, email, webhook)


def _webhook_url(url):
    url = url.strip()
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
        raise ValidationError("The webhook must be an http or https address; got %(url)r.",
                              url=url)
    return url or None


def _describe(error):
    return f"{type(error).__name__}: {error}"


def _stamp(moment):
    return moment.isoformat(timespec="seconds")
