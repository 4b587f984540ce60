"""Photos uploaded as soon as the resident chooses them, before the report is sent.

Each goes through the same pipeline as a photo sent with the form (:func:`prepare_photo`:
sniffed, oriented, stripped, resized), so the server stays the authority, and is written to
the photo store like any photo. Until its report is sent it belongs to one browser: the
random token in that browser's cookie, of which only a hash is stored. Staged photos are
never public (``/photos/<name>`` serves only photos of public reports) and expire after
``STAGED_PHOTO_HOURS``; ``photos gc`` then removes their files.
"""

import hashlib
import secrets
from dataclasses import dataclass

from app.errors import NotFound, ValidationError
from app.reporting.photos import THE_PHOTO, prepare_photo, storing_photos
from app.storage import staged_photos as staged_rows


@dataclass(frozen=True)
class StagingRules:
    """How long a staged photo is kept and how many one browser may have waiting."""

    max_pixels: int = 40_000_000
    max_age_hours: int = 24
    per_browser: int = 12

    @classmethod
    def from_settings(cls, config):
        return cls(config["MAX_PHOTO_PIXELS"], config["STAGED_PHOTO_HOURS"],
                   config["STAGED_PHOTOS_PER_BROWSER"])


@dataclass(frozen=True)
class StagedPhoto:
    """A staged photo as the form sees it: its id, thumbnail file and the photo's GPS."""

    id: str
    thumb_name: str
    gps: tuple | None = None


@dataclass(frozen=True)
class StoredPhoto:
    """A staged photo's files, ready to be attached to a report."""

    display_name: str
    thumb_name: str
    width: int
    height: int


def new_owner_token():
    return secrets.token_urlsafe(18)


def owner_key(token):
    """What is stored of a browser's token: its hash, so the table cannot be used as one."""
    return hashlib.sha256(f"staged-photo-owner:{token}".encode()).hexdigest()


def stage_photo(db, store, owner_token, data, rules=StagingRules()):
    """Prepare and keep one photo for this browser; return a :class:`StagedPhoto`."""
    key = owner_key(owner_token)
    if staged_rows.count_recent(db, key, rules.max_age_hours) >= rules.per_browser:
        raise ValidationError("You have %(count)s photos waiting: send your report, or remove "
                              "some, before adding more.", count=rules.per_browser)
    photo = prepare_photo(data, rules.max_pixels, THE_PHOTO)
    photo_id = secrets.token_urlsafe(12)
    with storing_photos(db, store) as write:
        write(photo)
        staged_rows.stage(db, photo_id, key, photo)
    return StagedPhoto(photo_id, photo.thumb_name, photo.gps)


def thumbnail_of(db, owner_token, photo_id, max_age_hours):
    """The thumbnail file name of this browser's staged photo, or :class:`NotFound`."""
    rows = staged_rows.owned(db, owner_key(owner_token or ""), [photo_id], max_age_hours)
    if not owner_token or not rows:
        raise NotFound("There is no such photo.")
    return rows[0]["thumb_name"]


def photos_to_show(db, owner_token, photo_ids, max_age_hours):
    """Which of these ids are this browser's live staged photos (to show them again)."""
    rows = staged_rows.owned(db, owner_key(owner_token or ""), list(dict.fromkeys(photo_ids)),
                             max_age_hours)
    return [row["id"] for row in rows] if owner_token else []


def unstage(db, owner_token, photo_id):
    """The owner removes a photo from the form (its files go at the next ``photos gc``)."""
    with db.atomic():
        removed = staged_rows.remove(db, owner_key(owner_token or ""), [photo_id])
    if not owner_token or not removed:
        raise NotFound("There is no such photo.")


def photos_to_attach(db, owner_token, photo_ids, max_age_hours):
    """The staged photos a form names, in its order; refused when one is not this
    browser's or has expired (the resident adds it again)."""
    photo_ids = list(dict.fromkeys(photo_ids))
    if not photo_ids:
        return []
    rows = staged_rows.owned(db, owner_key(owner_token or ""), photo_ids, max_age_hours)
    if not owner_token or len(rows) != len(photo_ids):
        raise ValidationError(
            "A photo you added earlier has expired or was removed: please add it again.")
    return [StoredPhoto(r["display_name"], r["thumb_name"], r["width"], r["height"])
            for r in rows]


def attached(db, owner_token, photo_ids):
    """Within the report's transaction: these staged photos now belong to the report."""
    staged_rows.remove(db, owner_key(owner_token or ""), list(photo_ids))


def expire(db, max_age_hours):
    """Forget staged photos older than ``max_age_hours``; return how many."""
    return staged_rows.expire(db, max_age_hours)


