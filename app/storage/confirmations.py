"""The daily budget of confirmation e-mails per mailbox (keyed by an HMAC, never the address)."""

from app.storage import dialect, now

#: How far back the budget looks (an SQLite modifier, read by PostgreSQL as an interval).
BUDGET_WINDOW = "-1 day"


def take_turn(db, mailbox_key, per_day):
    """Note one more confirmation e-mail for this mailbox unless ``per_day`` were noted in
    the last day; return whether it may be sent. Call inside the caller's transaction."""
    sent = db.execute(
        f"SELECT count(*) FROM confirmation_budget WHERE mailbox_key = ? AND sent_at >= "
        f"{dialect.now_moved_by(db)}",
        [mailbox_key, BUDGET_WINDOW]).fetchone()[0]
    if sent >= per_day:
        return False
    db.execute("INSERT INTO confirmation_budget (mailbox_key, sent_at) VALUES (?, ?)",
               [mailbox_key, now()])
    return True


def forget_spent(db):
    """Delete the budget entries older than a day (they no longer count); return how many."""
    return db.execute("DELETE FROM confirmation_budget WHERE sent_at < "
                      f"{dialect.now_moved_by(db)}", [BUDGET_WINDOW]).rowcount


def forget_mailbox(db, mailbox_key):
    """Delete this mailbox's budget entries (privacy erase)."""
    db.execute("DELETE FROM confirmation_budget WHERE mailbox_key = ?", [mailbox_key])
