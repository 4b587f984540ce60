"""The daily overdue digest: one e-mail per service (through the outbox) listing its overdue
reports, which of them became overdue since its last digest, and who each is assigned to.

A day is the city's local day (``zone``); a service's digest of a day is recorded in the
same transaction as its messages, so running the command twice on a day sends once.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from app import localtime
from app.messaging.message_headers import one_line
from app.storage import digests as digest_rows
from app.storage import outbox as outbox_rows


@dataclass(frozen=True)
class Sent:
    """What one service's digest held, for the command's summary."""

    service: str
    overdue: int
    newly_overdue: int
    recipients: tuple


def send_digests(db, writer, zone, at=None):
    """Queue today's digest of every service with overdue reports and somebody to tell (its
    delivery e-mail, else its staff); return a :class:`Sent` per digest queued now."""
    at = at or datetime.now(UTC)
    day = localtime.today(zone, at)
    stamp = at.astimezone(UTC).isoformat(timespec="seconds")
    overdue = defaultdict(list)
    for row in digest_rows.overdue_reports(db, stamp):
        overdue[row["service_id"]].append(row)
    sent = []
    for service in digest_rows.services_with_recipients(db):
        recipients = _recipients(service)
        if overdue[service["id"]] and recipients:
            digest = _send_one(db, writer, service, overdue[service["id"]], recipients, day,
                               stamp)
            sent += [digest] if digest else []
    return sent


def _recipients(service):
    if service["email"]:
        return (service["email"],)
    return tuple((service["staff"] or "").split())


def _send_one(db, writer, service, reports, recipients, day, stamp):
    with db.atomic():
        last = digest_rows.last_digest_at(db, service["id"])
        if not digest_rows.claim_day(db, service["id"], day.isoformat(), stamp, len(reports)):
            return None
        newly = [r for r in reports if last is None or r["due_at"] >= last]
        earlier = [r for r in reports if r not in newly]
        context = {"service": service, "reports": reports, "newly": newly,
                   "earlier": earlier, "day": day, "at": stamp}
        subject = one_line(writer.render("email/overdue_digest.subject.txt", None, **context))
        body = writer.render("email/overdue_digest.txt", None, **context)
        for recipient in recipients:
            outbox_rows.enqueue(db, {
                "channel": "email", "purpose": "overdue_digest", "recipient": recipient,
                "dedupe_key": f"digest:{service['code']}:{day.isoformat()}:{recipient.lower()}",
                "subject": subject, "body": body})
    return Sent(service["code"], len(reports), len(newly), recipients)
