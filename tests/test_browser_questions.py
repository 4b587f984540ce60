"""Per-category questions in a real Chromium on the demo city: the questions appear as soon
as a category is chosen, a blocking answer disables Send and says why, answers reach the
report page, a required answer is asked again next to its question, the form works without
JavaScript, and the console's question pages; screenshots at 390x844 and 1366x768."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.dispatch.accounts import create_staff_user
from app.storage import questions as question_rows
from app.web.db import get_db
from tests.axe import assert_accessible
from tests.live import log_in, only_our_hosts

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/questions")
CITY_HALL = {"latitude": 34.0537, "longitude": -118.2428}
SIZES = {"390": {"width": 390, "height": 844}, "1366": {"width": 1366, "height": 768}}
ADMIN = ("questions-admin@demo.example", "questions admin passphrase")


def screenshot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def open_page(browser, demo_server, size="390", javascript=True):
    context = browser.new_context(
        viewport=SIZES[size], is_mobile=size == "390", has_touch=size == "390",
        geolocation=CITY_HALL, permissions=["geolocation"], base_url=demo_server.url,
        java_script_enabled=javascript)
    page = context.new_page()
    page.route("**/*", only_our_hosts())
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    return page


@pytest.fixture(params=list(SIZES))
def page(request, browser, demo_server):
    page = open_page(browser, demo_server, request.param)
    page.size = request.param
    yield page
    assert page.script_errors == []
    page.context.close()


def place_pin_and_choose(page, category):
    page.goto("/report/new")
    page.get_by_role("button", name="Use my location").click()
    expect(page.locator("#location-status")).to_contain_text("handled here")
    page.select_option("#category", category)


def answers_of(demo_server, report_url, public_only=False):
    report_id = int(report_url.rstrip("/").rsplit("/", 1)[1])
    with demo_server.app.app_context():
        return {a["code"]: a["value"] for a in
                question_rows.report_answers(get_db(), report_id, public_only)}


def test_questions_appear_and_a_blocking_answer_disables_send(page, demo_server):
    place_pin_and_choose(page, "streetlight")
    danger = page.get_by_label("Are wires exposed, or is the pole knocked down or leaning?")
    expect(danger).to_be_visible()
    expect(page.locator("#show-questions")).to_be_hidden()
    expect(page.get_by_text("Stamped on a metal tag on the pole")).to_be_visible()
    screenshot(page, f"form-questions-{page.size}")
    assert_accessible(page)

    danger.select_option("yes")
    send = page.get_by_role("button", name="Send report")
    expect(send).to_be_disabled()
    reason = page.locator("#send-blocked")
    expect(reason).to_contain_text("This report cannot be sent here: Do not touch it")
    assert send.get_attribute("aria-describedby") == "send-blocked"
    expect(page.locator(".blocking-message").first).to_contain_text("Call 911 now")
    screenshot(page, f"form-blocked-{page.size}")
    assert_accessible(page)

    danger.select_option("no")
    expect(send).to_be_enabled()
    expect(reason).to_be_hidden()
    page.get_by_label("Pole number").fill("123-4567")
    page.get_by_label("How many lights are out?").select_option("several")
    page.fill("#description", f"Light out in front of City Hall ({page.size}).")
    send.click()
    page.wait_for_url(re.compile(r"/reports/\d+$"))
    answers = page.locator(".report-answers")
    expect(answers).to_contain_text("How many lights are out?")
    expect(answers).to_contain_text("Several in a row")
    expect(answers).not_to_contain_text("123-4567")  # staff only
    screenshot(page, f"report-answers-{page.size}")
    assert answers_of(demo_server, page.url) == {"danger": "no", "pole_number": "123-4567",
                                                 "lights_out": "several"}


def test_choosing_another_category_replaces_the_questions(page):
    place_pin_and_choose(page, "illegal-dumping")
    expect(page.get_by_text("What has been dumped?")).to_be_visible()
    page.get_by_label("Tires").check()
    page.select_option("#category", "graffiti")
    expect(page.locator("#question-list .question")).to_have_count(0)
    page.select_option("#category", "bulky-items")
    expect(page.locator(".question-info")).to_contain_text("free bulky item pickup")


def test_a_missing_required_answer_is_asked_again_next_to_its_question(page, demo_server):
    place_pin_and_choose(page, "illegal-dumping")
    page.fill("#description", "Dumped behind the library.")
    page.get_by_role("button", name="Send report").click()
    problem = page.locator(".question.has-problem .field-problem")
    expect(problem).to_have_text("Answer this question: it is required.")
    expect(page.get_by_label("Mattresses or furniture")).to_be_visible()
    screenshot(page, f"form-required-{page.size}")
    assert_accessible(page)
    page.get_by_label("Mattresses or furniture").check()
    page.get_by_label("Tires").check()
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url(re.compile(r"/reports/\d+$"))
    assert answers_of(demo_server, page.url) == {"items": ["mattress", "tires"]}


def test_without_javascript_the_questions_come_after_choosing(browser, demo_server):
    page = open_page(browser, demo_server, "390", javascript=False)
    page.goto("/report/new")
    page.locator("#manual-position summary").click()
    page.fill("#lat", "34.0537")
    page.fill("#lon", "-118.2428")
    page.select_option("#category", "pothole")
    page.fill("#description", "Pothole by the bus stop.")
    page.get_by_role("button", name="Show the questions for this kind of problem").click()
    size = page.get_by_label("How big is the pothole?")
    expect(size).to_be_visible()
    assert page.input_value("#description") == "Pothole by the bus stop."
    screenshot(page, "form-no-js-questions-390")
    size.select_option("medium")
    page.get_by_label("About how deep is it, in centimetres?").fill("8")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url(re.compile(r"/reports/\d+$"))
    assert answers_of(demo_server, page.url) == {"size": "medium", "depth_cm": 8.0}
    page.context.close()


@pytest.fixture(scope="module")
def admin(demo_server):
    with demo_server.app.app_context():
        create_staff_user(get_db(), *ADMIN, "admin", [])
    return ADMIN


def test_an_admin_adds_a_blocking_question_in_the_console(page, admin):
    page.goto("/login")
    log_in(page, *admin)
    page.get_by_role("link", name="Questions").click()
    expect(page.get_by_role("heading", name="Questions per category")).to_be_visible()
    screenshot(page, f"console-questions-{page.size}")
    assert_accessible(page)
    page.get_by_role("link", name="Add a question to Graffiti").click()
    page.get_by_label("Code (Open311 attribute)").fill(f"offensive_{page.size}")
    page.get_by_label("Kind of answer").select_option("singlevaluelist")
    page.get_by_label("Question text").first.fill("Is it offensive or hateful?")
    page.get_by_label("Answers to choose from (list questions only)").fill(
        "no | No\nyes | Yes | Call the city's hate line: this form only books removal.")
    screenshot(page, f"console-question-edit-{page.size}")
    assert_accessible(page)
    page.get_by_role("button", name="Save the question").click()
    expect(page.get_by_text("Question added.")).to_be_visible()
    expect(page.locator("#category-graffiti")).to_contain_text("has a blocking answer")
    page.goto("/report/new")
    page.get_by_role("button", name="Use my location").click()
    expect(page.locator("#location-status")).to_contain_text("handled here")
    page.select_option("#category", "graffiti")
    page.get_by_label("Is it offensive or hateful?").select_option("yes")
    expect(page.get_by_role("button", name="Send report")).to_be_disabled()
    page.goto("/dispatch/questions")
    page.locator("#category-graffiti").get_by_role(
        "button", name=f"Delete question offensive_{page.size}").click()
    expect(page.get_by_text("Question deleted")).to_be_visible()
