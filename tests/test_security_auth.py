"""Issue 13, staff accounts and redirects: each test runs the attack.

Proxied clients, per-account login failures, open redirects, replayed session cookies, a
forged "dev" cookie, login timing, cache and HSTS headers, url_for clashes and the password
policy.
"""

import os
import stat
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app.web.auth as staff_auth
from app import create_app
from app.dispatch.accounts import change_password, check_password, create_staff_user
from app.errors import ValidationError
from app.storage import row_counts
from app.storage import users as user_rows
from app.web.db import get_db
from app.web.security import InsecureConfiguration
from tests.conftest import AuthActions
from tests.factories import make_app
from tests.test_reporter_link import create as create_report
from tests.test_security_outbox import HOSTILE_ADDRESSES

ADMIN = "admin@city.example"
PASSWORD = AuthActions.PASSWORD
ATTACKER_IP, ADMIN_IP = "203.0.113.7", "198.51.100.9"


def limited_app(folder, **config):
    app = make_app(folder, RATE_LIMITS_ON=True, **config)
    with app.app_context():
        create_staff_user(get_db(), ADMIN, PASSWORD, "admin", [])
    return app


def log_in(client, email=ADMIN, password=PASSWORD, client_ip=None, next_url=None):
    headers = {"X-Forwarded-For": client_ip} if client_ip else {}
    path = "/login" if next_url is None else f"/login?next={next_url}"
    return client.post(path, data={"email": email, "password": password}, headers=headers)


# Point 2: rate limits key on the real client; failed logins are limited per account.

def test_behind_a_proxy_an_attacker_does_not_lock_the_admin_out(tmp_path):
    app = limited_app(tmp_path, PROXY_HOPS=1)
    attacker, admin = app.test_client(), app.test_client()
    statuses = [log_in(attacker, password="guess number one", client_ip=ATTACKER_IP).status_code
                for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    assert log_in(admin, client_ip=ADMIN_IP).status_code == 302


def test_a_forged_forwarded_for_is_ignored_without_trusted_proxies(tmp_path):
    app = limited_app(tmp_path, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [log_in(client, password="guess", client_ip=f"192.0.2.{n}").status_code
                for n in range(1, 5)]
    assert statuses == [401, 401, 401, 429]


def test_failed_logins_close_the_account_to_new_browsers_from_any_address(tmp_path):
    app = limited_app(tmp_path, PROXY_HOPS=1, LOGIN_FAILURE_LIMIT="5 per hour")
    usual_browser = app.test_client()
    assert log_in(usual_browser, client_ip=ADMIN_IP).status_code == 302
    usual_browser.post("/logout")

    attacker = app.test_client()
    statuses = [log_in(attacker, password="guess", client_ip=f"192.0.2.{n}").status_code
                for n in range(1, 6)]
    assert statuses == [401] * 5
    refused = log_in(attacker, client_ip="192.0.2.99")
    assert refused.status_code == 429 and "Too many failed logins" in refused.text
    assert log_in(app.test_client(), client_ip="192.0.2.100").status_code == 429

    assert log_in(usual_browser, client_ip=ADMIN_IP).status_code == 302


def test_a_known_browser_has_its_own_failure_budget_and_cannot_be_forged(tmp_path):
    app = limited_app(tmp_path, PROXY_HOPS=1, LOGIN_FAILURE_LIMIT="3 per hour")
    browser = app.test_client()
    assert log_in(browser).status_code == 302
    statuses = [log_in(browser, password="typo").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]

    forger = app.test_client()
    cookie = browser.get_cookie(staff_auth.KNOWN_BROWSER_COOKIE, path="/login").value
    forger.set_cookie(staff_auth.KNOWN_BROWSER_COOKIE, cookie[:-2] + "xx", path="/login")
    assert [log_in(forger, password="guess").status_code for _ in range(3)] == [401] * 3
    assert log_in(forger).status_code == 429
    assert log_in(app.test_client()).status_code == 429


def test_unknown_addresses_are_locked_like_real_ones(tmp_path):
    """The lock must not tell which staff e-mails exist."""
    app = limited_app(tmp_path, LOGIN_FAILURE_LIMIT="2 per hour")
    client = app.test_client()
    for email in ("ghost@city.example", ADMIN):
        statuses = [log_in(client, email, "guess").status_code for _ in range(3)]
        assert statuses == [401, 401, 429]


# Point 4: one strict local-redirect helper for login and the language switcher.

BYPASSES = [
    "/%09/evil.example", "/\t/evil.example", "/\r\n/evil.example", "//evil.example",
    "/\\evil.example", "\\\\evil.example", "/%5Cevil.example", "/%2F/evil.example",
    "%2F%2Fevil.example", "/%252F%252Fevil.example", "https://evil.example",
    "https:evil.example", "javascript:alert(1)", " //evil.example", "\x00//evil.example",
    "/\u3000/evil.example", "/\u2028/evil.example", "/%E3%80%80/evil.example",
    "///evil.example", "evil.example", "",
]


def browser_reading(location):
    """What a browser makes of a Location (WHATWG URL parser): controls and spaces at the
    ends and tabs/newlines anywhere are dropped, a backslash is a slash."""
    cleaned = location.strip("".join(map(chr, range(33))))
    cleaned = cleaned.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    return cleaned


def assert_stays_on_site(location):
    seen = browser_reading(location)
    parts = urlsplit(seen)
    assert seen.startswith("/") and not seen.startswith("//"), location
    assert not parts.scheme and not parts.netloc, location


@pytest.mark.parametrize("target", BYPASSES)
def test_the_language_switcher_only_redirects_on_this_site(client, target):
    response = client.get("/language/fr", query_string={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_the_reported_switcher_attack_lands_home(client):
    response = client.get("/language/fr?next=/%09/evil.example")
    assert response.status_code == 303 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", BYPASSES)
def test_login_only_redirects_on_this_site(client, auth, target):
    response = client.post("/login", query_string={"next": target},
                           data={"email": ADMIN, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/dispatch"


def test_local_paths_still_work(client, auth):
    back = client.get("/language/fr", query_string={"next": "/reports?status=open&q=caf%C3%A9"})
    assert back.headers["Location"] == "/reports?status=open&q=caf%C3%A9"
    response = client.post("/login?next=/dispatch/stats",
                           data={"email": ADMIN, "password": PASSWORD})
    assert response.headers["Location"] == "/dispatch/stats"


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(["", "/", "//", "/\\", "\\", "/%09/", "/%0a/", "https:", "%2F"]),
       rest=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]),
                    max_size=20))
def test_no_next_value_leaves_the_site(client, prefix, rest):
    response = client.get("/language/fr", query_string={"next": prefix + rest})
    assert response.status_code == 303
    assert_stays_on_site(response.headers["Location"])


# Point 5: logout and a new password end every copy of the session; SameSite=Lax.

def session_cookie(client):
    return client.get_cookie("session").value


def replay(app, cookie):
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/dispatch")


def test_a_copied_session_cookie_dies_with_logout(app, client, auth):
    response = auth.login(ADMIN)
    assert "SameSite=Lax" in response.headers["Set-Cookie"]
    copy = session_cookie(client)
    assert replay(app, copy).status_code == 200
    auth.logout()
    refused = replay(app, copy)
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")


def test_a_new_password_logs_every_session_out(app, client, auth, runner):
    auth.login(ADMIN)
    copy = session_cookie(client)
    result = runner.invoke(args=["users", "set-password", ADMIN, "--password-stdin"],
                           input="a brand new passphrase\n")
    assert result.exit_code == 0, result.output
    assert replay(app, copy).status_code == 302
    assert client.get("/dispatch").status_code == 302
    assert auth.login(ADMIN, "a brand new passphrase").status_code == 302
    assert auth.login(ADMIN, PASSWORD).status_code == 401


def test_set_password_refuses_a_weak_password_and_an_unknown_account(runner, auth):
    weak = runner.invoke(args=["users", "set-password", ADMIN, "--password-stdin"],
                         input="password1234\n")
    assert weak.exit_code == 1 and "most common passwords" in weak.output
    unknown = runner.invoke(args=["users", "set-password", "nobody@city.example",
                                  "--password-stdin"], input="a brand new passphrase\n")
    assert unknown.exit_code == 1 and "no active staff account" in unknown.output


# Point 6: no fixed development key.

def app_in(folder, **config):
    os.environ["CIVIC_INSTANCE_PATH"] = str(folder)
    try:
        return make_app(folder, SECRET_KEY="", **config)
    finally:
        del os.environ["CIVIC_INSTANCE_PATH"]


def forged_session(secret_key, user_id):
    forger = Flask("forger")
    forger.secret_key = secret_key
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    return serializer.dumps({"_user_id": user_id, "_fresh": True})


def test_a_cookie_signed_with_dev_is_refused(tmp_path):
    app = app_in(tmp_path)
    with app.app_context():
        admin_id = create_staff_user(get_db(), ADMIN, PASSWORD, "admin", [])
    assert replay(app, forged_session(app.secret_key, f"{admin_id}.0")).status_code == 200
    refused = replay(app, forged_session("dev", f"{admin_id}.0"))
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")


def test_the_instance_key_is_private_shared_and_new_per_instance(tmp_path):
    first, again = app_in(tmp_path / "one"), app_in(tmp_path / "one")
    other = app_in(tmp_path / "two")
    assert first.secret_key == again.secret_key != other.secret_key
    assert len(first.secret_key) >= 32 and first.secret_key != "dev"
    key_file = tmp_path / "one" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "one").iterdir() if "secret" in p.name) == [
        "secret_key"]


def test_production_still_needs_a_configured_key(tmp_path):
    with pytest.raises(InsecureConfiguration, match="CIVIC_SECRET_KEY"):
        create_app({"ENV_NAME": "production", "DATABASE": str(tmp_path / "p.sqlite3")})
    assert not (tmp_path / "secret_key").exists()


# Point 7: an unknown e-mail costs one password hash check, like a real one.

def test_an_unknown_email_is_checked_against_a_hash_like_the_real_ones(client, auth, db,
                                                                    monkeypatch):
    checked = []
    real_check = staff_auth.check_password_hash

    def recording_check(stored, password):
        checked.append(stored)
        return real_check(stored, password)

    monkeypatch.setattr(staff_auth, "check_password_hash", recording_check)
    assert auth.login("nobody@city.example", PASSWORD).status_code == 401
    assert auth.login(ADMIN, "wrong password").status_code == 401
    real_hash = user_rows.user_by_email(db, ADMIN)["password_hash"]
    assert len(checked) == 2 and checked[1] == real_hash
    method = real_hash.split("$")[0]
    assert checked[0].split("$")[0] == method and checked[0] != real_hash


# Point 16: HSTS with secure cookies; private pages are never cached.

def test_hsts_only_when_cookies_are_https_only(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert "Strict-Transport-Security" not in make_app(
        tmp_path / "a").test_client().get("/").headers
    secure = make_app(tmp_path / "b", SESSION_COOKIE_SECURE=True).test_client().get("/")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_staff_pages_login_and_the_private_link_are_not_cached(client, auth):
    report_id, link = create_report(client)
    private = client.get(link)
    assert private.status_code == 200 and private.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get(f"/reports/{report_id}").headers.get("Cache-Control", "")
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    auth.login(ADMIN)
    for path in ("/dispatch", f"/dispatch/reports/{report_id}", "/dispatch/stats",
                 "/dispatch/export.csv"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


FOLLOWER = "follower@example.org"


def alert_token(app, client, report_id):
    """Ask for alerts on a report, as a resident does; the token their e-mail links carry."""
    assert client.post(f"/reports/{report_id}/subscribe",
                       data={"email": FOLLOWER}).status_code == 303
    with app.app_context():
        [row] = get_db().execute("SELECT token FROM subscriptions").fetchall()
    return row[0]


def test_alert_confirm_and_unsubscribe_pages_are_not_cached_nor_sent_as_referer(app, client):
    """The confirm page shows the subscriber's address: a shared cache must not keep it,
    and a link followed from it must not carry the secret URL to another site."""
    report_id, link = create_report(client)
    token = alert_token(app, client, report_id)
    for path in (f"/alerts/{token}/confirm", f"/alerts/{token}/unsubscribe", link):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
    assert FOLLOWER in client.get(f"/alerts/{token}/confirm").text
    public = client.get(f"/reports/{report_id}")
    assert public.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_every_route_with_a_token_is_private_whatever_it_answers(app, client):
    """Any route with a ``<token>`` (supports confirmations too, as they are added), any
    method, a good answer or a refusal."""
    report_id, _link = create_report(client)
    adapter = app.url_map.bind("localhost")
    rules = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert {"reports.manage_report", "reports.confirm_subscription",
            "reports.unsubscribe_page"} <= {rule.endpoint for rule in rules}
    for rule in rules:
        values = {name: {"token": "not-a-real-token", "fmt": "json"}.get(name, report_id)
                  for name in rule.arguments}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(adapter.build(rule.endpoint, values, method=method),
                                   method=method)
            assert response.headers["Cache-Control"] == "no-store", (rule.rule, method)
            assert response.headers["Referrer-Policy"] == "no-referrer", (rule.rule, method)


# Point 17: parameters that used to reach url_for or compare_digest and crash.

@pytest.mark.parametrize("path", [
    "/reports?endpoint=x", "/reports.atom?endpoint=x", "/reports.atom?_external=1",
    "/reports?_external=1&_scheme=javascript", "/reports.atom?_anchor=x&_method=POST",
    "/map?endpoint=x"])
def test_reserved_url_for_names_are_ignored(client, path):
    response = client.get(path)
    assert response.status_code == 200 and "javascript://" not in response.text


def test_reserved_names_in_the_queue_are_ignored(client, auth):
    auth.login(ADMIN)
    assert client.get("/dispatch?endpoint=x&_external=1").status_code == 200
    response = client.post("/dispatch/bulk?endpoint=x&_scheme=x&status=open",
                           data={"status": "acknowledged"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Select at least one report." in page
    assert 'name="next" value="/dispatch?status=open"' in page


def test_a_non_ascii_manage_token_is_a_404(client, snapshot):
    report_id, _link = create_report(client)
    before = snapshot()
    assert client.get(f"/reports/{report_id}/manage/%C3%A9t%C3%A9").status_code == 404
    assert client.post(f"/reports/{report_id}/manage/\u00e9t\u00e9/fixed").status_code == 404
    assert snapshot() == before


def test_line_breaks_in_the_switchers_next_go_home(client):
    response = client.get("/language/fr?next=/%0d%0aSet-Cookie:%20admin=1")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "admin=1" not in response.headers.get("Set-Cookie", "")


# Point 18: the password policy.

@pytest.mark.parametrize("password, reason", [
    ("aaaaaaaaaaaa", "repeated"), ("abcabcabcabc", "repeated"),
    ("passwordpassword", "repeated"), ("password1234", "common"),
    ("qwerty123456", "common"), ("!!iloveyou2024", "common"), ("1q2w3e4r5t6y", "common"),
    ("admin@city.example", "e-mail"), ("my admin@city.example!", "e-mail"),
    ("Admin-is-me-2024", "e-mail"), ("short", "12 characters"),
])
def test_guessable_passwords_are_refused(db, password, reason):
    with pytest.raises(ValidationError, match=reason):
        check_password(password, ADMIN)
    before = row_counts(db)
    with pytest.raises(ValidationError):
        create_staff_user(db, ADMIN, password, "admin", [])
    assert row_counts(db) == before


@pytest.mark.parametrize("password, reason", [
    ("123456789012", "sequence"), ("1234567890123", "sequence"), ("abcdefghijkl", "sequence"),
    ("0987654321098", "sequence"), ("Qwertyuiopas!", "sequence"), ("abcdefgh2024", "sequence"),
    ("000000000001", "5 different"), ("aaaaaaaaaaab", "5 different"),
    ("passwordpassword1", "repeated"), ("monkeymonkey42", "repeated"),
    ("!!summersummer", "repeated"),
])
def test_digits_sequences_and_near_repeats_are_refused(db, password, reason):
    """Each passed the policy before: stripping digits left nothing (or a repeated word) to
    check, and one odd character defeated the repeat check."""
    with pytest.raises(ValidationError, match=reason):
        check_password(password, ADMIN)


@given(st.sampled_from(["0123456789", "abcdefghijklmnopqrstuvwxyz",
                        "qwertyuiopasdfghjklzxcvbnm"]),
       st.integers(0, 40), st.integers(12, 40), st.booleans(), st.text("0123456789!", max_size=2))
def test_any_run_along_the_digits_alphabet_or_keyboard_is_refused(run, start, length, backwards,
                                                                  tail):
    laps = run * 6
    password = laps[start:start + length]
    password = (password[::-1] if backwards else password) + tail
    with pytest.raises(ValidationError):
        check_password(password, ADMIN)


@given(st.text("abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=10),
       st.integers(2, 3), st.text("0123456789", max_size=2))
def test_a_word_repeated_plus_a_digit_or_two_is_refused(word, times, digits):
    with pytest.raises(ValidationError):
        check_password(word * times + digits if len(word * times) >= 12 else
                       word * (12 // len(word) + 1) + digits, ADMIN)


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES)
def test_a_staff_account_takes_only_a_plain_address(app, runner, address):
    """The same strict check as every other address: a staff e-mail reaches headers too."""
    with app.app_context():
        before = row_counts(get_db())
    result = runner.invoke(args=["users", "create", address, "--role", "admin",
                                 "--password-stdin"], input="tram lines at dawn 7\n")
    assert result.exit_code == 1 and "is not a valid e-mail address" in result.output
    with app.app_context():
        assert row_counts(get_db()) == before


def test_good_passwords_are_accepted_and_change_the_generation(db):
    for strong in ("tram lines at dawn 7", "Kx9#mQ2vL!pz", "8351 2947 6610",
                   "vélo-cargo-sous-pluie"):
        check_password(strong, ADMIN)
    user_id = create_staff_user(db, ADMIN, "correct horse battery", "admin", [])
    change_password(db, ADMIN, "tram lines at dawn 7")
    assert user_rows.user_by_id(db, user_id)["session_generation"] == 1
