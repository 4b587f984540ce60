"""Who is logged in: the staff user of a session, and the decorator that requires one.

A session names the account's session generation (the user id is ``"<id>.<generation>"``);
logging out and changing the password start a new generation, so copies of older session
cookies are refused. Every blueprint with staff pages uses this; the login views are in
:mod:`app.web.auth`.
"""

from dataclasses import dataclass
from functools import wraps

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user

from app.storage import users as user_rows
from app.web.db import get_db

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see the dispatch console.")
login_manager.localize_callback = str


@dataclass
class StaffUser(UserMixin):
    id: int
    email: str
    role: str
    service_ids: tuple
    generation: int = 0

    def get_id(self):
        return f"{self.id}.{self.generation}"

    @property
    def is_admin(self):
        return self.role == "admin"

    def can_handle(self, service_id):
        return self.is_admin or service_id in self.service_ids

    @property
    def visible_services(self):
        """The service ids this user works on, or None for all (admins)."""
        return None if self.is_admin else self.service_ids


def load_staff(db, row):
    return StaffUser(row["id"], row["email"], row["role"],
                     tuple(user_rows.user_service_ids(db, row["id"])),
                     row["session_generation"])


@login_manager.user_loader
def load_user(session_id):
    """The session's user, unless the account has started a new session generation since."""
    user_id, _dot, generation = session_id.partition(".")
    if not (user_id.isdigit() and generation.isdigit()):
        return None
    db = get_db()
    row = user_rows.user_by_id(db, int(user_id))
    if not row or row["session_generation"] != int(generation):
        return None
    return load_staff(db, row)


def staff_required(view):
    """Anonymous users go to the login page; any staff role may pass."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapped
