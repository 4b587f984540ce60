"""Keeping a city's data safe: online backup and restore, photo clean-up, privacy erasure.

No Flask here; the CLI passes paths and the open database.
"""

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from app.errors import ValidationError
from app.photos import PhotoStore
from app.storage import open_database
from app.storage import outbox as outbox_rows
from app.storage import privacy as privacy_rows
from app.storage import reports as report_rows
from app.storage import subscriptions as subscription_rows

BACKUP_DATABASE = "civic.sqlite3"
BACKUP_PHOTOS = "photos"
STALE_TEMPORARY_SECONDS = 3600


def backup(database_path, photo_dir, destination):
    """Copy the database (SQLite online backup API, consistent while the app runs), then every
    photo it refers to. Photos are written before their report commits, so all are there."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    target = destination / BACKUP_DATABASE
    if target.exists():
        raise ValidationError(f"{target} already exists: choose an empty folder.")
    names = _copy_database(database_path, target)
    copied = _copy_photos(PhotoStore(photo_dir), PhotoStore(destination / BACKUP_PHOTOS), names)
    return target, copied


def restore(source, database_path, photo_dir, force=False):
    """Put a backup in place of the instance's database and add its photos."""
    source = Path(source)
    backup_file = source / BACKUP_DATABASE
    if not backup_file.is_file():
        raise ValidationError(f"{source} holds no {BACKUP_DATABASE}: is it a backup folder?")
    _check_integrity(backup_file)
    if Path(database_path).exists() and not force:
        raise ValidationError(f"{database_path} exists: pass --force to replace it.")
    names = _copy_database(backup_file, database_path)
    return _copy_photos(PhotoStore(source / BACKUP_PHOTOS), PhotoStore(photo_dir), names)


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


def check_photos(db, store, now=None):
    """Files no report refers to, references with no file, and abandoned temporary files."""
    now = now or time.time()
    referenced = report_rows.stored_photo_names(db)
    on_disk = store.names()
    stale = [p for p in store.root.glob("*/.*.tmp")
             if now - p.stat().st_mtime > STALE_TEMPORARY_SECONDS] if store.root.exists() else []
    return PhotoCheck(sorted(on_disk - referenced), sorted(referenced - on_disk), stale)


def collect_photo_garbage(db, store, dry_run=False):
    """Remove orphan and stale temporary files (unless ``dry_run``); return the check."""
    check = check_photos(db, store)
    if not dry_run:
        for name in check.orphans:
            if not report_rows.photo_is_referenced(db, name):
                store.remove(name)
        for path in check.stale_temporary:
            path.unlink(missing_ok=True)
    return check


@dataclass
class Erasure:
    reports: int
    supports: int
    subscriptions: int
    messages: int

    def __str__(self):
        return (f"{self.reports} report(s), {self.supports} support(s), "
                f"{self.subscriptions} alert subscription(s) and {self.messages} e-mail(s) "
                "in the outbox")


def erase_contact(db, email, actor="privacy"):
    """Remove a person's e-mail and name from reports and supports, and delete their alert
    subscriptions and the e-mails to them; the reports stay, anonymous, each logged."""
    email = (email or "").strip()
    if "@" not in email:
        raise ValidationError(f"{email!r} is not an e-mail address.")
    with db.atomic():
        ids = privacy_rows.reports_with_email(db, email)
        privacy_rows.anonymise(db, ids, actor, "erasure requested")
        return Erasure(len(ids), privacy_rows.forget_supporter(db, email),
                       subscription_rows.erase_email(db, email),
                       outbox_rows.forget_recipient(db, email))


def apply_retention(db, months, actor="retention"):
    """Anonymise reporter contact data, and delete sent or failed e-mails and webhook calls,
    older than ``months``; return (reports anonymised, messages deleted)."""
    if months <= 0:
        return 0, 0
    age = f"-{int(months)} months"
    with db.atomic():
        ids = privacy_rows.reports_with_contact_before(db, age)
        privacy_rows.anonymise(db, ids, actor, f"older than {months} months")
        return len(ids), outbox_rows.delete_sent_before(db, age)
