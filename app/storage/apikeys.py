"""Open311 API keys: stored as sha256 hashes, so a leaked database leaks no usable key."""

import hashlib

from app.storage import now


def key_hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(db, name, key, rate=None):
    """Store a key for the organisation ``name``; ``rate`` is its own limit (None: the
    OPEN311_KEY_RATE_LIMIT setting)."""
    db["api_keys"].insert({"name": name, "key_hash": key_hash(key), "rate": rate,
                           "created_at": now()})


def key_named(db, name):
    rows = list(db.query("SELECT * FROM api_keys WHERE name = ?", [name]))
    return rows[0] if rows else None


def revoke_key(db, name):
    cursor = db.execute("UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                        [now(), name])
    return cursor.rowcount == 1


def key_is_valid(db, key):
    return db.execute("SELECT 1 FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
                      [key_hash(key)]).fetchone() is not None


def active_key(db, key):
    """The organisation's row (id, name, rate) of a valid key, or None."""
    row = db.execute("SELECT id, name, rate FROM api_keys WHERE key_hash = ? "
                     "AND revoked_at IS NULL", [key_hash(key)]).fetchone()
    return dict(zip(("id", "name", "rate"), row, strict=True)) if row else None
