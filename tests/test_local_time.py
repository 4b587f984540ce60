"""The city's local time (issue 15): people read times in ``TIME_ZONE`` with the zone's
abbreviation, lists say "3 hours ago" with the exact time in a tooltip, dates in filters are
local days (a DST day has 23 hours), machine outputs keep ISO 8601 with the offset."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import create_app, localtime
from app.dispatch import stats
from app.web.db import get_db
from tests.factories import make_app
from tests.test_outbox import ROADS, mail_app, new_report, send, staff_client

LA = "America/Los_Angeles"
#: 2024-03-10 is the day Los Angeles moves its clocks from 02:00 PST to 03:00 PDT.
BEFORE_SPRING = "2024-03-10T09:30:00+00:00"  # 01:30 PST
AFTER_SPRING = "2024-03-10T10:30:00+00:00"  # 03:30 PDT


@pytest.fixture
def la_app(tmp_path):
    return make_app(tmp_path, TIME_ZONE=LA)


def set_created(app, report_id, moment):
    with app.app_context():
        get_db().execute("UPDATE reports SET created_at = ?, updated_at = ? WHERE id = ?",
                         [moment, moment, report_id])


def report_at(app, moment, **fields):
    report_id = new_report(app, **fields)
    set_created(app, report_id, moment)
    return report_id


def page(client, url, language="en"):
    response = client.get(url, headers={"Accept-Language": language})
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


# --- the setting -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "PDT", "../etc/passwd", ""])
def test_an_unknown_zone_stops_start_up_naming_it(tmp_path, name):
    with pytest.raises(localtime.UnknownTimeZone, match="is not an IANA time zone name"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "TIME_ZONE": name,
                    "DATABASE": str(tmp_path / "db.sqlite3")})


def test_the_zone_is_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CIVIC_TIME_ZONE", "Europe/Paris")
    monkeypatch.setenv("CIVIC_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.extensions["time_zone"].key == "Europe/Paris"
    assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Europe/Paris"


# --- the vocabulary ----------------------------------------------------------------------

def test_local_days_across_both_dst_changes():
    zone = localtime.zone_named(LA)
    assert localtime.day_start(date(2024, 3, 10), zone) == "2024-03-10T08:00:00+00:00"
    assert localtime.next_day_start(date(2024, 3, 10), zone) == "2024-03-11T07:00:00+00:00"
    assert localtime.day_start(date(2024, 11, 3), zone) == "2024-11-03T07:00:00+00:00"
    assert localtime.next_day_start(date(2024, 11, 3), zone) == "2024-11-04T08:00:00+00:00"
    assert localtime.abbreviation(localtime.in_zone(BEFORE_SPRING, zone)) == "PST"
    assert localtime.abbreviation(localtime.in_zone(AFTER_SPRING, zone)) == "PDT"


ZONES = ["America/Los_Angeles", "Europe/Paris", "Australia/Lord_Howe", "Asia/Kolkata",
         "America/St_Johns", "Pacific/Apia", "UTC"]


@settings(max_examples=300, deadline=None)
@given(day=st.dates(min_value=date(1971, 1, 1), max_value=date(2099, 12, 31)),
       name=st.sampled_from(ZONES))
def test_every_local_day_is_a_whole_number_of_half_hours_that_tile_the_timeline(day, name):
    """A day starts where the previous one ends, lasts 23 to 25 hours (Apia skipped a whole
    day in 2011), and every moment inside it reads as that local day."""
    zone = localtime.zone_named(name)
    start, end = localtime.day_start(day, zone), localtime.next_day_start(day, zone)
    assert end == localtime.day_start(day + timedelta(days=1), zone)
    hours = (datetime.fromisoformat(end) - datetime.fromisoformat(start)) / timedelta(hours=1)
    assert hours in (0, 22.5, 23, 23.5, 24, 24.5, 25) or name == "Pacific/Apia"
    if hours:
        assert localtime.local_date(start, zone) == day
        last = datetime.fromisoformat(end) - timedelta(seconds=1)
        assert localtime.local_date(last, zone) == day


def test_a_zone_without_letters_reads_as_an_offset():
    zone = localtime.zone_named("America/Sao_Paulo")
    assert localtime.abbreviation(localtime.in_zone("2024-06-01T12:00:00+00:00", zone)) == "UTC-03"


# --- pages -------------------------------------------------------------------------------

def test_the_report_page_shows_local_time_with_its_zone_on_both_sides_of_dst(la_app):
    client = la_app.test_client()
    before = report_at(la_app, BEFORE_SPRING)
    after = report_at(la_app, AFTER_SPRING)
    html = page(client, f"/reports/{before}")
    assert '<time datetime="2024-03-10T01:30:00-08:00">Mar 10, 2024, 1:30\u202fAM PST</time>' \
        in html
    assert "09:30" not in html
    html = page(client, f"/reports/{after}")
    assert '<time datetime="2024-03-10T03:30:00-07:00">Mar 10, 2024, 3:30\u202fAM PDT</time>' \
        in html


def test_the_hour_that_happens_twice_in_autumn_says_which_it_is(la_app):
    """On 2024-11-03 the clocks go back from 02:00 PDT to 01:00 PST: 01:30 happens twice."""
    client = la_app.test_client()
    first = report_at(la_app, "2024-11-03T08:30:00+00:00")
    second = report_at(la_app, "2024-11-03T09:30:00+00:00")
    assert "Nov 3, 2024, 1:30\u202fAM PDT" in page(client, f"/reports/{first}")
    assert "Nov 3, 2024, 1:30\u202fAM PST" in page(client, f"/reports/{second}")


def test_the_report_page_in_french(la_app):
    report_id = report_at(la_app, "2024-07-04T16:07:00+00:00")
    html = page(la_app.test_client(), f"/reports/{report_id}", "fr")
    assert "4 juil. 2024, 09:07 PDT" in html


def test_the_default_zone_is_utc_and_says_so(client, app):
    report_id = report_at(app, "2024-07-04T16:07:00+00:00")
    assert "Jul 4, 2024, 4:07\u202fPM UTC" in page(client, f"/reports/{report_id}")


def tooltip_and_text(html, report_id):
    """The <time> of one report's row in a list: (datetime, title, text)."""
    row = html[html.index(f"/reports/{report_id}\""):]
    match = re.search(r'<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>', row)
    return match.groups()


def test_lists_say_how_long_ago_with_the_exact_local_time_in_a_tooltip(la_app):
    client = la_app.test_client()
    three_hours_ago = datetime.now(UTC) - timedelta(hours=3, minutes=5)
    report_id = report_at(la_app, three_hours_ago.isoformat(timespec="seconds"))
    local = three_hours_ago.astimezone(localtime.zone_named(LA))
    for url in ("/reports", "/"):
        stamp, title, text = tooltip_and_text(page(client, url), report_id)
        assert text == "3 hours ago"
        assert stamp == local.isoformat(timespec="seconds")
        assert title.endswith(local.strftime("%Z")) and local.strftime("%-I:%M") in title
    _, _, text = tooltip_and_text(page(client, "/reports", "fr"), report_id)
    assert text == "il y a 3 heures"


def test_an_old_report_in_a_list_shows_its_local_day(la_app):
    """At 20:00 PDT on May 31 it is already June 1 in UTC: the list says May 31."""
    report_id = report_at(la_app, "2024-06-01T03:00:00+00:00")
    _, title, text = tooltip_and_text(page(la_app.test_client(), "/reports"), report_id)
    assert text == "May 31, 2024"
    assert title == "May 31, 2024, 8:00\u202fPM PDT"


# --- filters by date ---------------------------------------------------------------------

def exported_ids(client, **args):
    response = client.get("/api/reports.csv", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {int(row["id"]) for row in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}


def test_since_and_until_mean_local_days_even_the_23_hour_one(la_app):
    client = la_app.test_client()
    times = {
        "saturday_late": "2024-03-10T07:59:59+00:00",   # Mar 9, 23:59:59 PST
        "sunday_first": "2024-03-10T08:00:00+00:00",    # Mar 10, 00:00 PST
        "sunday_last": "2024-03-11T06:59:59+00:00",     # Mar 10, 23:59:59 PDT
        "monday_first": "2024-03-11T07:00:00+00:00",    # Mar 11, 00:00 PDT
    }
    ids = {name: report_at(la_app, moment) for name, moment in times.items()}
    sunday = exported_ids(client, since="2024-03-10", until="2024-03-10")
    assert sunday == {ids["sunday_first"], ids["sunday_last"]}
    assert exported_ids(client, until="2024-03-09") == {ids["saturday_late"]}
    assert exported_ids(client, since="2024-03-11") == {ids["monday_first"]}


def test_the_25_hour_autumn_day(la_app):
    client = la_app.test_client()
    first = report_at(la_app, "2024-11-03T07:00:00+00:00")  # Nov 3, 00:00 PDT
    last = report_at(la_app, "2024-11-04T07:59:59+00:00")  # Nov 3, 23:59:59 PST
    after = report_at(la_app, "2024-11-04T08:00:00+00:00")  # Nov 4, 00:00 PST
    assert exported_ids(client, since="2024-11-03", until="2024-11-03") == {first, last}
    assert exported_ids(client, since="2024-11-04") == {after}


def test_a_date_time_with_an_offset_is_taken_as_given(la_app):
    client = la_app.test_client()
    report_id = report_at(la_app, "2024-03-10T08:00:00+00:00")
    assert exported_ids(client, since="2024-03-10T00:00:00-08:00") == {report_id}
    assert exported_ids(client, since="2024-03-10T00:00:01-08:00") == set()


def test_dates_at_the_ends_of_the_calendar_still_filter(tmp_path):
    app = make_app(tmp_path, TIME_ZONE="Asia/Tokyo")
    client = app.test_client()
    report_id = report_at(app, "2024-03-10T08:00:00+00:00")
    assert exported_ids(client, since="0001-01-01", until="9999-12-31") == {report_id}


# --- machine outputs stay ISO 8601 with the offset ---------------------------------------

def test_machine_outputs_keep_iso_times_with_the_offset(la_app):
    client = la_app.test_client()
    report_id = report_at(la_app, "2024-07-04T16:07:00+00:00")
    [row] = csv.DictReader(io.StringIO(client.get("/api/reports.csv").get_data(as_text=True)))
    assert row["created_at"] == "2024-07-04T16:07:00+00:00"
    feed = client.get("/reports.atom").get_data(as_text=True)
    assert "<published>2024-07-04T16:07:00+00:00</published>" in feed
    requests = client.get("/open311/v2/requests.json", query_string={
        "start_date": "2024-07-01T00:00:00Z", "end_date": "2024-07-31T00:00:00Z"}).get_json()
    [request] = [r for r in requests if r["service_request_id"] == str(report_id)]
    assert request["requested_datetime"] == "2024-07-04T16:07:00+00:00"


# --- e-mails, the console and its statistics ---------------------------------------------

def test_the_service_email_gives_the_local_time_with_its_zone(tmp_path, smtp):
    app = mail_app(tmp_path, smtp.port, TIME_ZONE=LA)
    result = app.test_cli_runner().invoke(args=["services", "set", "roads", "--email", ROADS])
    assert result.exit_code == 0, result.output
    report_at(app, "2024-01-15T20:45:00+00:00")
    send(app)
    [message] = smtp.to(ROADS)
    assert "Reported: Jan 15, 2024, 12:45\u202fPM PST" in message.get_content()


def test_the_console_shows_local_times(la_app):
    report_id = report_at(la_app, "2024-01-15T20:45:00+00:00")
    client = staff_client(la_app)
    queue = page(client, "/dispatch")
    assert 'title="Jan 15, 2024, 12:45\u202fPM PST">Jan 15, 2024</time>' in queue
    staff = page(client, f"/dispatch/reports/{report_id}")
    assert "Jan 15, 2024, 12:45\u202fPM PST" in staff
    assert "20:45" not in staff


def test_staff_statistics_count_local_weeks_and_days(la_app):
    """Monday 2024-01-15 at 05:00 UTC is still Sunday evening in Los Angeles: it counts in
    the week of Monday the 8th, and the oldest open report is from the 14th."""
    report_at(la_app, "2024-01-15T05:00:00+00:00")
    html = page(staff_client(la_app), "/dispatch/stats")
    assert "<td>Jan 14, 2024</td>" in html


def test_weeks_are_the_citys():
    zone = localtime.zone_named(LA)
    row = {"service_code": "roads", "service": "Roads", "category_code": "pothole",
           "category": "Pothole", "status": "open", "acknowledged_at": None, "fixed_at": None,
           "created_at": "2024-01-15T05:00:00+00:00"}
    in_la = dict(stats.summarise([row], today=date(2024, 1, 20), zone=zone).weeks)
    in_utc = dict(stats.summarise([row], today=date(2024, 1, 20)).weeks)
    assert in_la[date(2024, 1, 8)] == 1 and in_la[date(2024, 1, 15)] == 0
    assert in_utc[date(2024, 1, 15)] == 1
