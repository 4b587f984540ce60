"""The outbox worker: plan the messages of new events, then send what is due, in rounds.

``flask --app app outbox send`` runs one round; with ``--forever`` it keeps going, pausing
when nothing is due, and stops cleanly (after the message in hand) on SIGTERM or Ctrl-C.
Everything it needs is in the database, so a stopped worker resumes where it was.
Between rounds it also regenerates the full open-data exports when they are stale.
The command that starts it hands it the web layer's ``writer``
(:class:`app.web.emails.EmailWriter`): the e-mails' templates and the site's links.
"""

import signal
import threading

from app.messaging import delivery, notify, open311_client
from app.reporting import exports
from app.storage import DatabaseError


def send_round(app, db, writer):
    """Plan, then deliver everything due; return (messages planned, DeliveryRound)."""
    planned = notify.plan_notifications(db, writer)
    config = app.config
    webhook = delivery.WebhookSettings.from_config(config)
    result = delivery.deliver_due(
        db, delivery.MailSettings.from_config(config), webhook,
        delivery.RetryPolicy.from_config(config),
        channels={"open311": lambda message: open311_client.send_request(db, message, webhook)})
    return planned, result


def refresh_exports(app, db, links, report):
    """Keep the published export files fresh; a failure is reported and sending goes on."""
    try:
        if exports.refresh_if_stale(app, db, links):
            report("Regenerated the full open-data exports.")
    except (OSError, *DatabaseError) as error:
        report(f"Could not regenerate the full open-data exports: {error}")


def run_forever(app, db, writer, report):
    """Rounds until stopped; ``report`` gets a line for each round that did something."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stop.is_set():
            planned, result = send_round(app, db, writer)
            if planned or result.sent or result.retrying or result.failed:
                report(f"Planned {planned} message(s); {result}")
            refresh_exports(app, db, writer.links, report)
            stop.wait(float(app.config["OUTBOX_POLL_SECONDS"]))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
