"""Staff accounts: sign-in lookups, session generations, service memberships."""

from app.storage import now


def create_user(db, email, password_hash, role, service_ids):
    with db.atomic():
        user_id = db["users"].insert({"email": email, "password_hash": password_hash,
                                      "role": role, "created_at": now()}).last_pk
        db["user_services"].insert_all({"user_id": user_id, "service_id": s} for s in service_ids)
    return user_id


def user_by_email(db, email):
    rows = list(db.query("SELECT * FROM users WHERE email = ? AND active = 1", [email]))
    return rows[0] if rows else None


def user_by_id(db, user_id):
    rows = list(db.query("SELECT * FROM users WHERE id = ? AND active = 1", [user_id]))
    return rows[0] if rows else None


def start_new_session_generation(db, user_id):
    """Every session issued before this call stops being accepted."""
    db.execute("UPDATE users SET session_generation = session_generation + 1 WHERE id = ?",
               [user_id])


def set_password_hash(db, user_id, password_hash):
    """A new password also ends every session of the account."""
    with db.atomic():
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, user_id])
        start_new_session_generation(db, user_id)


def user_service_ids(db, user_id):
    return [r[0] for r in db.execute("SELECT service_id FROM user_services WHERE user_id = ?",
                                     [user_id])]
