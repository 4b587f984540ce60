"""Staff login and logout (the logged-in user and the access decorator: app.web.staff).

Passwords are hashed with werkzeug.security; sessions come from Flask-Login; every form is
protected by Flask-WTF's CSRF check. Login attempts are throttled per client address by
Flask-Limiter, and failed ones per account: failures from browsers that never logged into
the account share one budget, while a browser that did (it holds a signed "known browser"
cookie) has a budget of its own, so nobody can lock the staff out of their usual browsers.
"""

import secrets
from functools import cache

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from app.storage import users as user_rows
from app.web.db import get_db
from app.web.extensions import (
    count_login_failure,
    limiter,
    limits_off,
    login_allowed,
    login_retry_after,
)
from app.web.security import local_path
from app.web.staff import load_staff

bp = Blueprint("auth", __name__)
KNOWN_BROWSER_COOKIE = "staff_browser"
ONE_YEAR = 365 * 24 * 3600


def safe_next(target):
    """Only a local path may be a redirect target after login."""
    return local_path(target) or url_for("dispatch.queue")


@cache
def dummy_password_hash():
    """A hash made like the real ones, checked when no account has the e-mail, so an
    unknown address takes as long to refuse as a wrong password."""
    return generate_password_hash(secrets.token_urlsafe(16))


def verified_user(email, password):
    """The active account with this e-mail and password, or None, after one hash check."""
    db = get_db()
    row = user_rows.user_by_email(db, email)
    stored = row["password_hash"] if row else dummy_password_hash()
    if check_password_hash(stored, password) and row:
        return load_staff(db, row)
    return None


def browser_cookies():
    return URLSafeSerializer(current_app.secret_key, salt="known-staff-browser")


def failure_budget(email):
    """Whose failed logins this attempt counts against: the browser, if it logged into this
    account before, else every unknown browser trying the account."""
    email = email.lower()
    try:
        known = browser_cookies().loads(request.cookies.get(KNOWN_BROWSER_COOKIE, ""))
    except BadSignature:
        known = None
    if isinstance(known, dict) and known.get("email") == email:
        return f"browser:{known.get('browser')}"
    return f"account:{email}"


def remember_browser(response, email):
    value = browser_cookies().dumps({"email": email.lower(),
                                     "browser": secrets.token_urlsafe(16)})
    response.set_cookie(KNOWN_BROWSER_COOKIE, value, max_age=ONE_YEAR, path=url_for("auth.login"),
                        httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def login_page(error, status):
    return render_template("auth/login.html", error=error), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
               exempt_when=limits_off)
def login():
    if request.method == "GET":
        return login_page(None, 200)
    dummy_password_hash()  # the first attempt of each process pays for it, account or not
    email = (request.form.get("email") or "").strip()
    budget = failure_budget(email)
    if not login_allowed(budget):
        refused = make_response(login_page(_("Too many failed logins for this account: wait a "
                                             "while and try again."), 429))
        refused.headers["Retry-After"] = str(login_retry_after(budget))
        return refused
    user = verified_user(email, request.form.get("password") or "")
    if user is None:
        count_login_failure(budget)
        return login_page(_("That e-mail and password do not match a staff account."), 401)
    login_user(user)
    return remember_browser(redirect(safe_next(request.args.get("next"))), email)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        user_rows.start_new_session_generation(get_db(), current_user.id)
    logout_user()
    return redirect(url_for("reports.home"))
