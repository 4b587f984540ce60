"""A resident asks for the private links of their reports again, by e-mail.

The answer on the page is the same whether or not the address sent any report, so the form
tells nobody who reported what. One e-mail lists every link (the newest ``MAX_LINKS``); it
takes a turn from the mailbox's daily budget of confirmation-like e-mails
(:mod:`app.messaging.confirmations`), so the form cannot be used to flood a mailbox.
"""

import secrets

from app.fields import check_email
from app.messaging.confirmations import may_send
from app.messaging.notify import links_message
from app.storage import outbox as outbox_rows
from app.storage import reporter_links as link_rows

MAX_LINKS = 50


def send_links(db, email, budget, locale, writer):
    """Queue the e-mail of private links for this address, if it sent reports and its
    budget allows; return nothing either way (the caller answers the same)."""
    email = check_email(email)
    reports = link_rows.reports_sent_from(db, email, MAX_LINKS)
    if not reports:
        return
    links = [{**report, "link": writer.links.manage(report["id"], report["token"])}
             for report in reports]
    with db.atomic():
        if may_send(db, email, budget):
            outbox_rows.enqueue(db, links_message(email, links, locale, writer,
                                                  secrets.token_hex(8)))
