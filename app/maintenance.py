"""Keeping a city's data safe: online backup and restore, photo clean-up, privacy erasure.

No Flask here; the CLI passes the database (a SQLite path or a PostgreSQL URL), the photo
folder and the open database.
"""

import json
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from app.errors import ValidationError
from app.messaging.confirmations import mailbox_key
from app.reporting import staging
from app.reporting.photos import PhotoStore
from app.reporting.supports import email_key
from app.statuses import OPEN_STATUSES, STATUSES
from app.storage import confirmations as budget_rows
from app.storage import dumps, is_postgresql, open_database
from app.storage import outbox as outbox_rows
from app.storage import privacy as privacy_rows
from app.storage import reports as report_rows
from app.storage import subscriptions as subscription_rows
from app.storage import supports as support_rows

BACKUP_DATABASE = "civic.sqlite3"
#: A PostgreSQL database's backup: pg_dump's custom format.
BACKUP_DUMP = "civic.pgdump"
BACKUP_FILES = {"sqlite": BACKUP_DATABASE, "postgresql": BACKUP_DUMP}
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
BACKUP_PHOTOS = "photos"
STALE_TEMPORARY_SECONDS = 3600
SCRUB_BATCH = 500
ERASED = "[erased]"


def backup(database, photo_dir, destination):
    """Copy the database, consistent while the app runs (SQLite's online backup API, or
    pg_dump of one snapshot), then every photo that copy refers to. Photos are written before
    their report commits, so all are there."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    for name in BACKUP_FILES.values():
        if (destination / name).exists():
            raise ValidationError(f"{destination / name} already exists: choose an empty folder.")
    if is_postgresql(database):
        target = destination / BACKUP_DUMP
        with dumps.snapshot(database) as (db, snapshot):
            dumps.dump(database, snapshot, target)
            names = report_rows.stored_photo_names(db)
    else:
        target = destination / BACKUP_DATABASE
        names = _copy_database(database, target)
    copied = _copy_photos(PhotoStore(photo_dir), PhotoStore(destination / BACKUP_PHOTOS), names)
    return target, copied


def restore(source, database, photo_dir, force=False):
    """Put a backup in place of the instance's database and add its photos."""
    source = Path(source)
    if is_postgresql(database):
        names = _restore_dump(source, database, force)
    else:
        names = _restore_file(source, database, force)
    return _copy_photos(PhotoStore(source / BACKUP_PHOTOS), PhotoStore(photo_dir), names)


def _restore_file(source, database_path, force):
    backup_file = _backup_file(source, "sqlite")
    _check_integrity(backup_file)
    if Path(database_path).exists() and not force:
        raise ValidationError(f"{database_path} exists: pass --force to replace it.")
    return _copy_database(backup_file, database_path)


def _restore_dump(source, url, force):
    """pg_restore into the configured database, refused when it holds tables unless
    ``force``; return the photo names the restored database refers to."""
    dump_file = _backup_file(source, "postgresql")
    dumps.check_archive(dump_file)
    db = open_database(url)
    try:
        if dumps.tables_of_its_own(db) and not force:
            raise ValidationError("The configured PostgreSQL database already holds tables: "
                                  "pass --force to replace them.")
        dumps.restore(url, dump_file, replace=force)
        return report_rows.stored_photo_names(db)
    finally:
        db.close()


def _backup_file(source, engine):
    """The backup's database file for ``engine``, or why this folder cannot be restored."""
    other = "postgresql" if engine == "sqlite" else "sqlite"
    if (source / BACKUP_FILES[engine]).is_file():
        return source / BACKUP_FILES[engine]
    if (source / BACKUP_FILES[other]).is_file():
        raise ValidationError(
            f"{source} is a backup of a {ENGINE_NAMES[other]} database and this instance runs "
            f"on {ENGINE_NAMES[engine]}: restore it into a {ENGINE_NAMES[other]} instance"
            + (" ('flask --app app db copy' then moves it to PostgreSQL)." if other == "sqlite"
               else "."))
    raise ValidationError(f"{source} holds no {BACKUP_FILES[engine]}: is it a backup folder?")


def _copy_database(source_path, target_path):
    """Copy with the SQLite backup API; return the photo names the copy refers to."""
    source = sqlite3.connect(str(source_path))
    target = sqlite3.connect(str(target_path))
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    copy = open_database(target_path)
    try:
        return report_rows.stored_photo_names(copy)
    finally:
        copy.close()


def _check_integrity(path):
    connection = sqlite3.connect(str(path))
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()
    if result != "ok":
        raise ValidationError(f"{path} fails SQLite's integrity check: {result}")


def _copy_photos(source, target, names):
    copied = 0
    for name in sorted(names):
        path = source.path(name)
        if not path.is_file():
            raise ValidationError(f"Photo {name} is referenced but missing from {source.root}.")
        if not target.path(name).exists():
            target.write(name, path.read_bytes())
            copied += 1
    return copied


@dataclass
class PhotoCheck:
    orphans: list
    missing: list
    stale_temporary: list
    #: Photos uploaded ahead by the form whose report never came, forgotten by this run.
    expired_staged: int = 0


def check_photos(db, store, now=None):
    """Files no report refers to, references with no file, and abandoned temporary files."""
    now = now or time.time()
    referenced = report_rows.stored_photo_names(db)
    on_disk = store.names()
    stale = [p for p in store.root.glob("*/.*.tmp")
             if now - p.stat().st_mtime > STALE_TEMPORARY_SECONDS] if store.root.exists() else []
    return PhotoCheck(sorted(on_disk - referenced), sorted(referenced - on_disk), stale)


def collect_photo_garbage(db, store, dry_run=False, staged_hours=None):
    """Forget staged photos older than ``staged_hours`` (their files become orphans), then
    remove orphan and stale temporary files (unless ``dry_run``); return the check."""
    expired = 0
    if staged_hours is not None and not dry_run:
        expired = staging.expire(db, staged_hours)
    check = check_photos(db, store)
    check.expired_staged = expired
    if not dry_run:
        for name in check.orphans:
            _remove_if_unreferenced(db, store, name)
        for path in check.stale_temporary:
            path.unlink(missing_ok=True)
    return check


def _remove_if_unreferenced(db, store, name):
    """Remove the file unless a row refers to it, checked under the write lock: photos are
    written inside their report's transaction, which holds that lock, so a file whose
    report is being stored (by any server sharing the photo store) is never taken for an
    orphan."""
    with db.atomic():
        if not report_rows.photo_is_referenced(db, name):
            store.remove(name)


@dataclass
class Erasure:
    reports: int
    supports: int
    subscriptions: int
    messages: int
    checkpointed: bool = True

    def __str__(self):
        return (f"{self.reports} report(s), {self.supports} support(s), "
                f"{self.subscriptions} alert subscription(s) and {self.messages} e-mail(s) "
                "in the outbox")


def erase_contact(db, email, secret, actor="privacy"):
    """Remove a person's e-mail and name from reports, supports and every outbox message
    about their reports, and delete their alert subscriptions and the e-mails to them; the
    reports stay, anonymous, each logged. Deliveries still owed to a service still go,
    without the contact. Then the WAL is checkpointed and truncated, and with
    ``secure_delete`` the old bytes are zeroed, so the address is gone from the files."""
    email = (email or "").strip()
    if "@" not in email:
        raise ValidationError(f"{email!r} is not an e-mail address.")
    with db.atomic():
        ids = privacy_rows.reports_with_email(db, email)
        to_them = _anonymise(db, ids, {email}, actor, "erasure requested")
        erasure = Erasure(len(ids),
                          privacy_rows.forget_supporter_key(db, email_key(email, secret)),
                          subscription_rows.erase_email(db, email),
                          to_them + outbox_rows.forget_recipient(db, email))
        budget_rows.forget_mailbox(db, mailbox_key("confirm", email, secret))
    erasure.checkpointed = privacy_rows.checkpoint(db)
    return erasure


def erase_phone(db, phone, actor="privacy"):
    """Remove a phone number (as an Open311 client sent it, however it is spaced) and the
    name and e-mail beside it from the reports that hold it and from every outbox message
    about them; the reports stay, anonymous, each logged. Return the Erasure."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 3:
        raise ValidationError(f"{phone!r} is not a telephone number.")
    with db.atomic():
        ids = privacy_rows.reports_with_phone_digits(db, digits)
        to_them = _anonymise(db, ids, {phone.strip()}, actor, "erasure requested")
        erasure = Erasure(len(ids), 0, 0, to_them)
    erasure.checkpointed = privacy_rows.checkpoint(db)
    return erasure


def _anonymise(db, report_ids, known, actor, reason):
    """Clear the reports' contact data; delete the messages about them to their reporters
    and scrub the contact data (and ``known`` strings) from the others. Return how many
    were deleted."""
    deleted = 0
    for start in range(0, len(report_ids), SCRUB_BATCH):
        batch = report_ids[start:start + SCRUB_BATCH]
        secrets = known | privacy_rows.contacts_of(db, batch)
        privacy_rows.anonymise(db, batch, actor, reason)
        for message in outbox_rows.messages_about(db, batch):
            if message["recipient"].lower() in {s.lower() for s in secrets}:
                outbox_rows.delete_message(db, message["id"])
                deleted += 1
            else:
                outbox_rows.rewrite_message(db, message["id"], *scrubbed(message, secrets))
    return deleted


#: Channels whose body is JSON: an erased value becomes null there (and an Open311 request
#: then leaves that field out).
JSON_CHANNELS = ("webhook", "open311")


def scrubbed(message, secrets):
    """A message's subject, body, headers and last error with every secret replaced: text
    gets "[erased]", a JSON value that was exactly a secret becomes null. One-letter
    names are left: they identify no one, and replacing them would garble the text."""
    secrets = sorted({s.strip() for s in secrets if len(s.strip()) > 1}, key=len, reverse=True)
    fields = (message["subject"], message["body"], message["headers"], message["last_error"])
    if not secrets:
        return fields
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(s)}(?!\w)" for s in secrets),
                         re.IGNORECASE)

    def text(value):
        return pattern.sub(ERASED, value) if value else value

    def in_json(value):
        if isinstance(value, dict):
            return {key: in_json(item) for key, item in value.items()}
        if isinstance(value, list):
            return [in_json(item) for item in value]
        if isinstance(value, str):
            return None if pattern.fullmatch(value) else text(value)
        return value

    def json_text(value):
        try:
            return json.dumps(in_json(json.loads(value)))
        except ValueError:
            return text(value)

    subject, body, headers, last_error = fields
    return (text(subject), json_text(body) if message["channel"] in JSON_CHANNELS else text(body),
            json_text(headers or "{}"), text(last_error))


@dataclass
class Retention:
    reports: int = 0
    supports: int = 0
    subscriptions: int = 0
    messages: int = 0
    unconfirmed_supports: int = 0
    checkpointed: bool = True


def apply_retention(db, months, unconfirmed_days, actor="retention"):
    """Anonymise reporter contact data (and scrub it from messages about those reports),
    clear supporters' mailbox hashes, delete sent or failed e-mails and webhook calls and
    alerts to reports closed since, all older than ``months`` (0 keeps them); delete alert
    requests and "me too" with an e-mail unconfirmed for ``unconfirmed_days`` (0 keeps them)
    with their sent confirmation e-mails, unsubscribed alerts, and spent confirmation
    budgets."""
    done = Retention()
    with db.atomic():
        done.subscriptions = subscription_rows.delete_unsubscribed(db)
        budget_rows.forget_spent(db)
        if unconfirmed_days > 0:
            _drop_unconfirmed(db, f"-{int(unconfirmed_days)} days", done)
        if months > 0:
            age = f"-{int(months)} months"
            ids = privacy_rows.reports_with_contact_before(db, age)
            to_them = _anonymise(db, ids, set(), actor, f"older than {months} months")
            done.reports = len(ids)
            done.supports = privacy_rows.forget_supporters_before(db, age)
            done.messages += to_them + outbox_rows.delete_sent_before(db, age)
            closed = tuple(s for s in STATUSES if s not in OPEN_STATUSES)
            done.subscriptions += subscription_rows.delete_for_reports_closed_before(
                db, closed, age)
    done.checkpointed = privacy_rows.checkpoint(db)
    return done


def _drop_unconfirmed(db, age, done):
    """Requests nobody confirmed within ``age``, and the e-mails that asked."""
    done.subscriptions += subscription_rows.delete_unconfirmed_before(db, age)
    done.unconfirmed_supports = support_rows.delete_unconfirmed_before(db, age)
    done.messages += outbox_rows.delete_sent_confirmations_before(db, age)
