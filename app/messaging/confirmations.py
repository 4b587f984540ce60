"""Confirmation e-mails (alerts, follow a report, "me too"): a shared budget per mailbox.

Every form that sends a confirmation e-mail lets anyone type any address, and the attacker
chooses what to confirm (another radius, another report), so limits per request or per
alert cannot protect a mailbox. The budget counts the confirmation e-mails queued to one
mailbox (however the address is spelled) over the last day; past it the form answers the
same and sends nothing. It is kept under a keyed hash of the mailbox, never the address.
"""

import hashlib
import hmac
from dataclasses import dataclass

from app.messaging.message_headers import mailbox
from app.storage import confirmations as budget_rows


@dataclass(frozen=True)
class Budget:
    """The site's secret key (for the hashes) and the confirmation e-mails a mailbox may
    receive per day."""
    secret: str | bytes
    per_day: int


def mailbox_key(purpose, email, secret):
    """A keyed hash (HMAC-SHA256 with the site's secret key) of the mailbox, for one
    ``purpose``: enough to recognise a person, useless without the key."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"{purpose}:{mailbox(email)}".encode(), hashlib.sha256).hexdigest()


def may_send(db, email, budget):
    """Take one confirmation e-mail from this mailbox's budget; False when it is spent."""
    return budget_rows.take_turn(db, mailbox_key("confirm", email, budget.secret),
                                 budget.per_day)
