"""The console's queue: columns and sorting, saved views in the URL, quick filters, nearest
first, bulk changes (all or none, the selection kept on a refusal) and the French console."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from app.storage import row_counts
from app.web.db import get_db
from tests.test_dispatch import ADMIN, LIGHTS, ROADS, add

FRENCH = {"Accept-Language": "fr"}


def ids_in_order(html):
    """Report numbers as the queue's rows list them."""
    return [int(n) for n in re.findall(r'<tr data-url="/dispatch/reports/(\d+)"', html)]


def sql(app, statement, params=()):
    with app.app_context():
        db = get_db()
        db.execute(statement, params)
        db.conn.commit()


def make_overdue(app, runner, report_id, hours_ago):
    """Give potholes a 2-hour acknowledge target and make the report ``hours_ago`` old."""
    runner.invoke(args=["targets", "set", "pothole", "--acknowledge-hours", "2",
                        "--fix-hours", "48"])
    created = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat(timespec="seconds")
    sql(app, "UPDATE reports SET created_at = ? WHERE id = ?", [created, report_id])


def test_the_queue_is_a_table_with_every_column_and_sorts_by_each(app, client, auth, runner):
    first, second, third = (add(client, description=f"Hole {n}") for n in range(3))
    auth.login(ROADS)
    client.post(f"/dispatch/reports/{second}/priority", data={"priority": "urgent"})
    client.post(f"/dispatch/reports/{first}/priority", data={"priority": "low"})
    client.post(f"/dispatch/reports/{third}/assign", data={"assignee": ROADS})
    page = client.get("/dispatch").get_data(as_text=True)
    headers = re.findall(r'<th scope="col" class="col-(\w+)"', page)
    assert headers == ["select", "number", "category", "address", "area", "status", "age",
                       "supports", "priority", "assignee", "due"]
    assert ids_in_order(page) == [third, second, first], "newest first by default"
    by_priority = client.get("/dispatch?sort=priority").get_data(as_text=True)
    assert ids_in_order(by_priority) == [second, third, first]
    assert 'class="col-priority" aria-sort="ascending"' in by_priority
    by_number = client.get("/dispatch?sort=number&dir=desc").get_data(as_text=True)
    assert ids_in_order(by_number) == [third, second, first]
    by_assignee = client.get("/dispatch?sort=assignee").get_data(as_text=True)
    assert ids_in_order(by_assignee)[0] == third, "the assigned report before the empty ones"
    assert ids_in_order(client.get("/dispatch?order=oldest").get_data(as_text=True)) == [
        first, second, third], "an old saved link still sorts"


def test_a_view_is_its_url_and_every_link_keeps_it(client, auth):
    add(client)
    auth.login(ROADS)
    page = unescape(client.get("/dispatch?category=pothole&sort=due&dir=desc&quick=unassigned"
                               ).get_data(as_text=True))
    tabs = re.search(r'<nav class="status-tabs".*?</nav>', page, re.S).group(0)
    for link in re.findall(r'href="([^"]+)"', tabs):
        assert "category=pothole" in link and "sort=due" in link and "quick=unassigned" in link
    sort_link = re.search(r'<th scope="col" class="col-age"><a href="([^"]+)"', page).group(1)
    assert "category=pothole" in sort_link and "sort=age" in sort_link
    assert '<a class="view-link" href="/dispatch?category=pothole&sort=due&dir=desc&quick=' \
        'unassigned"' in page
    form = re.search(r'<form method="get" class="filter-bar".*?</form>', page, re.S).group(0)
    assert 'name="sort" value="due"' in form and 'name="quick" value="unassigned"' in form


def test_quick_filters_mine_unassigned_overdue_due_today(app, client, auth, runner):
    mine, late, fresh = add(client), add(client), add(client)
    auth.login(ROADS)
    client.post(f"/dispatch/reports/{mine}/assign", data={"assignee": ROADS})
    make_overdue(app, runner, late, hours_ago=5)
    assert ids_in_order(client.get("/dispatch?quick=mine").get_data(as_text=True)) == [mine]
    assert sorted(ids_in_order(client.get("/dispatch?quick=unassigned").get_data(
        as_text=True))) == [late, fresh]
    overdue = client.get("/dispatch?quick=overdue").get_data(as_text=True)
    assert ids_in_order(overdue) == [late]
    assert re.search(r"overdue by 3\s+hours", overdue)
    queue = client.get("/dispatch").get_data(as_text=True)
    assert re.search(r"due in (1|2)\s+hours?", queue)


def test_due_today_is_todays_date_whatever_the_hour(app, client, auth, runner):
    """Fix due at 01:00 today, at midnight starting tomorrow, at 23:00 yesterday (UTC, the
    default TIME_ZONE; the DST case is in test_console_targets)."""
    ids = [add(client) for _ in range(3)]
    auth.login(ROADS)
    runner.invoke(args=["targets", "set", "pothole", "--fix-hours", "24"])
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for report_id, created in zip(ids, (today - timedelta(hours=23), today,
                                        today - timedelta(hours=25)), strict=True):
        client.post(f"/dispatch/reports/{report_id}/status", data={"status": "acknowledged"})
        sql(app, "UPDATE reports SET created_at = ? WHERE id = ?",
            [created.isoformat(), report_id])
    page = client.get("/dispatch?quick=today").get_data(as_text=True)
    assert ids_in_order(page) == [ids[0]]


def test_nearest_to_me_orders_by_distance_and_says_how_far(client, auth):
    far = add(client, lon="0.9", lat="0.9")
    near = add(client, lon="0.5001", lat="0.5")
    middle = add(client, lon="0.6", lat="0.6")
    auth.login(ROADS)
    page = client.get("/dispatch?near=0.5,0.5").get_data(as_text=True)
    assert ids_in_order(page) == [near, middle, far]
    assert "11 m away" in page
    assert ids_in_order(client.get("/dispatch?near=nonsense").get_data(as_text=True)) == [
        middle, near, far], "a bad position is ignored: newest first"


def test_a_refused_bulk_change_keeps_the_selection_names_each_failure_and_stores_nothing(
        app, client, auth):
    good, fixed, other = add(client), add(client), add(client)
    auth.login(ROADS)
    client.post(f"/dispatch/reports/{fixed}/status", data={"status": "fixed"})
    with app.app_context():
        before = row_counts(get_db())
    response = client.post("/dispatch/bulk?status=all", data={
        "report": [str(good), str(fixed), str(other)], "status": "duplicate",
        "duplicate_of": str(good), "note": "Same hole"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    errors = unescape(re.search(r'id="bulk-errors">(.*?)</div>', page, re.S).group(1))
    assert "2 selected reports could not be changed, so none was" in errors
    assert f"#{good}</a>: A report cannot be a duplicate of itself." in errors
    assert f"#{fixed}</a>: A report that is fixed cannot become duplicate." in errors
    assert f"#{other}</a>" not in errors
    for report_id in (good, fixed, other):
        assert f'value="{report_id}" id="select-{report_id}"' in page
        assert re.search(rf'id="select-{report_id}" [^>]*checked', page)
    assert 'value="duplicate" selected' in page and 'value="Same hole"' in page
    back = re.search(r'name="next" value="([^"]+)"', page).group(1)
    assert unescape(back) == "/dispatch?status=all", "the language switcher goes to the queue"
    with app.app_context():
        assert row_counts(get_db()) == before


def test_bulk_duplicate_assign_priority_and_service(app, client, auth):
    original, copy_a, copy_b = add(client), add(client), add(client)
    auth.login(ROADS)
    response = client.post("/dispatch/bulk", data={
        "report": [str(copy_a), str(copy_b)], "status": "duplicate",
        "duplicate_of": str(original), "assignee": ROADS, "priority": "high"})
    assert response.status_code == 302
    with app.app_context():
        rows = {r["id"]: r for r in get_db().query(
            "SELECT r.id, r.status, r.duplicate_of, r.priority, u.email FROM reports r "
            "LEFT JOIN users u ON u.id = r.assignee_id")}
        kinds = [r[0] for r in get_db().execute(
            "SELECT kind FROM report_events WHERE report_id = ? ORDER BY id", [copy_a])]
    for report_id in (copy_a, copy_b):
        assert rows[report_id]["status"] == "duplicate"
        assert rows[report_id]["duplicate_of"] == original
        assert (rows[report_id]["priority"], rows[report_id]["email"]) == ("high", ROADS)
    assert kinds == ["created", "priority", "assigned", "status"]
    moved = client.post("/dispatch/bulk", data={"report": [str(original)],
                                                "service": "lights", "note": "Their lamp"})
    assert moved.status_code == 302
    assert client.get(f"/dispatch/reports/{original}").status_code == 404
    auth.logout()
    auth.login(LIGHTS)
    assert client.get(f"/dispatch/reports/{original}").status_code == 200


def test_select_all_checkboxes_and_the_bulk_bar_are_on_the_page(client, auth):
    add(client)
    auth.login(ROADS)
    page = client.get("/dispatch").get_data(as_text=True)
    assert 'id="select-all"' in page and 'id="bulk-bar"' in page
    for name in ("status", "duplicate_of", "note", "assignee", "priority", "service"):
        assert f'name="{name}"' in page


def visible_words(html):
    """The words a reader sees: no tags, scripts, styles, attribute values or entities."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    return set(re.findall(r"[A-Za-zÀ-ÿ’']{3,}", text))


#: Words French and English share on these pages: cognates ("service", "note", "page"), the
#: site's name, the tiles' attribution, area names, template placeholders and what people
#: typed (the resident's description, staff notes, a French template).
SHARED = {
    "Description", "description", "Service", "service", "Services", "Photos", "Actions",
    "actions", "Note", "note", "Position", "Urgent", "Questions", "public", "Public", "page",
    "via", "web", "webhook", "mail", "UTC", "Open311", "CSV", "Français", "English",
    "longitude", "latitude", "number", "category", "address", "due",
    "Fix", "Los", "Angeles", "City", "OpenStreetMap", "Square", "example", "city", "roads",
    "admin", "lights", "Deep", "hole", "the", "cycle", "lane", "Ada", "Resident", "org", "ada",
    "Crew", "booked", "L’équipe", "passe", "pour", "prévue", "Équipe",
}


@pytest.mark.parametrize("path", ["/dispatch", "/dispatch/reports/1", "/dispatch/templates",
                                  "/dispatch?quick=overdue&sort=due"])
def test_the_french_console_has_no_english_word_but_the_residents(app, client, auth, runner,
                                                                   path):
    runner.invoke(args=["names", "translate", "category", "pothole", "fr", "Nid-de-poule"])
    for kind, code, name in (("service", "roads", "Voirie"), ("service", "lights", "Éclairage"),
                             ("category", "streetlight", "Lampadaire éteint"),
                             ("category", "graffiti", "Tags")):
        runner.invoke(args=["names", "translate", kind, code, "fr", name])
    add(client)
    add(client)
    make_overdue(app, runner, 1, hours_ago=30)
    runner.invoke(args=["templates", "add", "roads", "--language", "fr", "--title",
                        "Équipe prévue", "L’équipe passe pour le n° {number}."])
    auth.login(ADMIN)
    client.post("/dispatch/reports/1/status", data={"status": "acknowledged",
                                                    "public_note": "Crew booked"})
    client.post("/dispatch/reports/1/priority", data={"priority": "high"})
    client.post("/dispatch/reports/1/status", data={"internal_note": "Crew booked"})
    client.post("/dispatch/reports/1/photos/0/visibility", data={"hidden": "1"})
    client.post("/dispatch/reports/1/redact", data={"public_description": "Deep hole"})
    client.post("/dispatch/reports/2/status", data={"status": "duplicate", "duplicate_of": "1"})
    english = visible_words(client.get(path).get_data(as_text=True))
    french = visible_words(client.get(path, headers=FRENCH).get_data(as_text=True))
    assert " ".join(sorted(english & french - SHARED)) == ""
    assert len(french) > 30
