"""After sending: the manage page shows the whole public history with who changed the status
and the city's notes; "Mark as fixed" and "Reopen" ask to confirm (a page, no JavaScript
needed); /reports/mine e-mails a resident's private links, answering the same for any
address; the private link can be copied and is kept in "My reports" on the phone."""

import re

import pytest
from playwright.sync_api import expect

from app.dispatch.workflow import StatusChange, change_status
from app.storage import reports as report_rows
from app.web.db import get_db
from tests.test_browser_report import phone as phone_page
from tests.test_browser_report import start_report_at
from tests.test_outbox import mail_app, new_report, outbox_rows, send

phone = phone_page  # the phone page fixture of the report tests (390x844, touch)
SAME_ANSWER = "If reports were sent with this address"


def manage_url(app, report_id):
    with app.app_context():
        return f"/reports/{report_id}/manage/{report_rows.report_token(get_db(), report_id)}"


def status_of(app, report_id):
    with app.app_context():
        return get_db().execute("SELECT status FROM reports WHERE id = ?",
                                [report_id]).fetchone()[0]


def test_the_manage_page_shows_the_history_with_who_and_the_citys_notes(app, client):
    report_id = new_report(app)
    with app.app_context():
        change_status(get_db(), report_id, "roads@city.example", StatusChange(
            "acknowledged", public_note="A crew will fill it on Tuesday.",
            internal_note="Ask Sam, truck 4"))
    client.post(manage_url(app, report_id) + "/fixed", data={"confirmed": "yes"})
    html = client.get(manage_url(app, report_id)).get_data(as_text=True)
    history = re.search(r'<ol class="history" id="history">(.*?)</ol>', html, re.S).group(1)
    items = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", li)).strip()
             for li in re.findall(r"<li>(.*?)</li>", history, re.S)]
    assert len(items) == 3
    assert "Reported (by you)" in items[0]
    assert "(by the city)" in items[1] and "The city says: A crew will fill it on Tuesday." in \
        items[1]
    assert "(by you)" in items[2] and "Fixed" in items[2]
    assert "Ask Sam" not in html and "roads@city.example" not in html


@pytest.mark.parametrize(("action", "asked", "done", "status"), [
    ("fixed", "as fixed?", "Marked as fixed", "fixed"),
    ("reopen", "Reopen report", "Reopened", "new"),
])
def test_mark_as_fixed_and_reopen_ask_to_confirm_first(app, client, snapshot, action, asked,
                                                       done, status):
    report_id = new_report(app)
    if action == "reopen":
        client.post(manage_url(app, report_id) + "/fixed", data={"confirmed": "yes"})
    before, status_before = snapshot(), status_of(app, report_id)
    url = manage_url(app, report_id) + f"/{action}"
    asking = client.post(url, data={"note": "Seen today <b>on my way</b>"})
    html = asking.get_data(as_text=True)
    assert asking.status_code == 200 and asked in html
    assert '<input type="hidden" name="confirmed" value="yes">' in html
    assert 'name="note" value="Seen today &lt;b&gt;on my way&lt;/b&gt;"' in html
    assert snapshot() == before and status_of(app, report_id) == status_before
    confirmed = client.post(url, data={"note": "Seen today", "confirmed": "yes"},
                            follow_redirects=True)
    assert done in confirmed.get_data(as_text=True)
    assert status_of(app, report_id) == status


def test_the_links_are_sent_again_by_email_through_the_outbox(tmp_path, smtp):
    app = mail_app(tmp_path, smtp.port)
    first = new_report(app, email="Ana@Example.org")
    second = new_report(app, email="ana@example.org", description="Second hole")
    new_report(app, email="someone@example.org")
    send(app)
    smtp.messages.clear()
    client = app.test_client()
    answer = client.post("/reports/mine", data={"email": "ANA@example.org"},
                         follow_redirects=True)
    assert SAME_ANSWER in answer.get_data(as_text=True)
    send(app)
    [mail] = smtp.messages
    body = mail.get_body().get_content()
    for report_id in (first, second):
        assert f"https://fix.city.example{manage_url(app, report_id)}" in body
    assert mail["To"] == "ANA@example.org"


def test_an_unknown_address_gets_the_same_answer_and_no_mail(app, client):
    known = client.post("/reports/mine", data={"email": "nobody@example.org"})
    assert known.status_code == 303
    assert SAME_ANSWER in client.get(known.headers["Location"]).get_data(as_text=True)
    assert outbox_rows(app) == []


def test_a_bad_address_is_explained_and_nothing_is_queued(app, client):
    response = client.post("/reports/mine", data={"email": "ana@gmail"})
    assert response.status_code == 400
    assert "not a valid e-mail address" in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert outbox_rows(app) == []


def test_asking_is_rate_limited_and_a_mailbox_gets_at_most_its_daily_budget(app, client):
    new_report(app, email="ana@example.org")
    with app.app_context():
        before = len(outbox_rows(app))
    app.config.update(CONFIRMATIONS_PER_MAILBOX_PER_DAY=2)
    for _ in range(4):
        assert client.post("/reports/mine", data={"email": "ana@example.org"}).status_code == 303
    assert len(outbox_rows(app)) == before + 2
    app.config.update(RATE_LIMITS_ON=True, MY_LINKS_RATE_LIMIT="1 per minute")
    assert client.post("/reports/mine", data={"email": "x@example.org"}).status_code == 303
    assert client.post("/reports/mine", data={"email": "x@example.org"}).status_code == 429


@pytest.mark.browser
def test_the_private_link_is_copied_and_kept_in_my_reports_on_this_phone(phone):
    phone.context.grant_permissions(["clipboard-read", "clipboard-write"])
    start_report_at(phone, "34.0538", "-118.2429", "pothole")
    phone.fill("#description", "Pothole to remember on this phone.")
    phone.get_by_role("button", name="Send report").click()
    phone.wait_for_url(re.compile(r"/reports/\d+"))
    link = phone.get_attribute("#private-link", "href")
    report_id = re.search(r"/reports/(\d+)/manage/", link).group(1)
    phone.get_by_role("button", name="Copy the link").click()
    expect(phone.locator("#link-status")).to_have_text("Link copied.")
    assert phone.evaluate("() => navigator.clipboard.readText()") == link

    phone.locator("#private-link-notice").get_by_role("link", name="My reports").click()
    item = phone.locator("#my-reports-list li", has_text=f"#{report_id}")
    expect(item.get_by_role("link")).to_have_attribute("href", link)
    expect(phone.locator("#my-reports-empty")).to_be_hidden()
    item.get_by_role("button", name=f"Forget report #{report_id} on this phone").click()
    expect(item).to_have_count(0)
    phone.reload()
    expect(phone.locator("#my-reports-list li", has_text=f"#{report_id}")).to_have_count(0)


@pytest.mark.browser
def test_mark_as_fixed_is_confirmed_with_the_keyboard_only(phone, demo_server):
    start_report_at(phone, "34.0539", "-118.2427", "pothole")
    phone.fill("#description", "Pothole fixed later.")
    phone.get_by_role("button", name="Send report").click()
    phone.wait_for_url(re.compile(r"/reports/\d+"))
    phone.goto(phone.get_attribute("#private-link", "href"))
    phone.get_by_role("button", name="Mark as fixed").focus()
    phone.keyboard.press("Enter")
    expect(phone.locator("#confirm-title")).to_contain_text("as fixed?")
    expect(phone.locator("#manage-status")).to_have_text("New")
    phone.get_by_role("button", name="Yes, it is fixed").focus()
    phone.keyboard.press("Enter")
    expect(phone.locator("#manage-status")).to_have_text("Fixed")


@pytest.mark.browser
def test_the_confirmation_step_and_a_refused_links_request_are_accessible(phone):
    from tests.axe import assert_accessible

    start_report_at(phone, "34.0536", "-118.2426", "pothole")
    phone.fill("#description", "Pothole for the accessibility check.")
    phone.get_by_role("button", name="Send report").click()
    phone.wait_for_url(re.compile(r"/reports/\d+"))
    assert_accessible(phone)  # the report page with its private link, Copy and Share
    phone.goto(phone.get_attribute("#private-link", "href"))
    phone.get_by_role("button", name="Mark as fixed").click()
    expect(phone.locator("#confirm-title")).to_be_focused()
    assert_accessible(phone)
    phone.goto("/reports/mine")
    phone.fill("#mine-email", "ana@gmail")
    phone.get_by_role("button", name="Send me my links").click()
    expect(phone.locator("#mine-email-error")).to_be_visible()
    assert_accessible(phone)
