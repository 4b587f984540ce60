"""Staff accounts: login, logout, the current user and the access decorator.

Passwords are hashed with werkzeug.security; sessions come from Flask-Login; every form is
protected by Flask-WTF's CSRF check; login attempts are throttled by Flask-Limiter.
"""

from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.security import check_password_hash

from app.db import get_db
from app.extensions import limiter, limits_off
from app.storage import staff as staff_rows

bp = Blueprint("auth", __name__)
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
                     tuple(staff_rows.user_service_ids(db, row["id"])))


@login_manager.user_loader
def load_user(user_id):
    db = get_db()
    row = staff_rows.user_by_id(db, int(user_id))
    return load_staff(db, row) if row else None


def staff_required(view):
    """Anonymous users go to the login page; any staff role may pass."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapped


def safe_next(target):
    """Only a local path may be a redirect target after login."""
    local = target and target.startswith("/") and not target.startswith("//")
    if local and not urlsplit(target).netloc:
        return target
    return url_for("dispatch.queue")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
               exempt_when=limits_off)
def login():
    error = None
    if request.method == "POST":
        db = get_db()
        email = (request.form.get("email") or "").strip()
        row = staff_rows.user_by_email(db, email)
        if row and check_password_hash(row["password_hash"], request.form.get("password") or ""):
            login_user(load_staff(db, row))
            return redirect(safe_next(request.args.get("next")))
        error = "That e-mail and password do not match a staff account."
    status = 401 if error else 200
    return render_template("auth/login.html", error=error), status


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("reports.home"))
