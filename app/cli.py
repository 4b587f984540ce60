"""Command-line interface: ``flask --app app db|demo|areas ...``.

Every command is documented in the README (a test checks it); errors become
``click.ClickException`` with the same message a web user would get.
"""

import json
import secrets
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from limits import parse_many

from app import maintenance
from app.demo import load_demo
from app.dispatch import digests, response_templates, targets
from app.dispatch.accounts import change_password, create_staff_user
from app.errors import AppError
from app.fields import check_xml_safe
from app.messaging import delivery, open311_client, outbox
from app.reporting import address_load, city, exports, places, questions
from app.reporting.areas import load_boundary_file, reroute_reports
from app.storage import (
    apikeys,
    catalog,
    database_target,
    engine_copy,
    is_postgresql,
    pending_migrations,
    upgrade,
)
from app.storage import areas as area_rows
from app.storage import open311 as open311_rows
from app.storage import outbox as outbox_rows
from app.storage import public as public_rows
from app.storage import questions as question_rows
from app.storage import response_templates as template_rows
from app.storage import targets as target_rows
from app.web.db import get_db, get_photo_store, get_router
from app.web.emails import EmailWriter
from app.web.i18n import LANGUAGES
from app.web.links import SiteLinks
from app.web.local_time import city_zone
from geo.errors import GeoError

db_cli = AppGroup("db", help="Database schema.")
demo_cli = AppGroup("demo", help="The demo city.")
areas_cli = AppGroup("areas", help="Service areas and boundary versions.")
reports_cli = AppGroup("reports", help="Stored reports.")
users_cli = AppGroup("users", help="Staff accounts.")
apikeys_cli = AppGroup("apikeys", help="Open311 API keys.")
photos_cli = AppGroup("photos", help="Stored photo files.")
privacy_cli = AppGroup("privacy", help="Reporters' personal data.")
outbox_cli = AppGroup("outbox", help="E-mails and webhooks waiting to be sent.")
services_cli = AppGroup("services", help="Services: where their reports are delivered.")
names_cli = AppGroup("names", help="Names of categories and services in other languages.")
exports_cli = AppGroup("exports", help="The full open-data export files.")
open311_cli = AppGroup("open311", help="The cities' Open311 servers our services deliver to.")
questions_cli = AppGroup("questions", help="Per-category questions (Open311 attributes).")
addresses_cli = AppGroup("addresses", help="The gazetteer: address points for search.")


@contextmanager
def as_click_errors():
    try:
        yield
    except (AppError, GeoError) as error:
        raise click.ClickException(str(error)) from None


@db_cli.command("upgrade")
def db_upgrade():
    """Apply pending migrations to the instance database."""
    applied = upgrade(get_db())
    names = ": " + ", ".join(applied) if applied else "."
    click.echo(f"Applied {len(applied)} migration(s){names}")


@db_cli.command("optimize")
def db_optimize():
    """Put the map's rows back in grid order after a bulk load, and nightly (on PostgreSQL:
    CLUSTER map_features, which holds map views and report writes for a few seconds per
    million reports)."""
    if public_rows.put_map_in_grid_order(up_to_date_db()):
        click.echo("The map's rows are in grid order again.")
    else:
        click.echo("Nothing to do: SQLite keeps the map's rows in grid order.")


@db_cli.command("copy")
@click.option("--to", "url", required=True, metavar="postgresql://...",
              help="An empty PostgreSQL + PostGIS database.")
def db_copy(url):
    """Copy this instance's SQLite database (every table; photos stay where they are) into
    an empty PostgreSQL database, migrated first; checked by row counts and checksums."""
    db = up_to_date_db()
    if db.dialect != "sqlite":
        raise click.ClickException("db copy reads a SQLite instance; this one already runs on "
                                   "PostgreSQL (DATABASE_URL).")
    if not is_postgresql(url):
        raise click.ClickException(f"--to takes a postgresql:// URL, not {url!r}.")
    with as_click_errors():
        copied = engine_copy.copy_to_postgresql(db, url)
    for table in copied:
        click.echo(f"{table.name}: {table.rows} row(s), checksum {table.checksum}")
    click.echo(f"Copied {len(copied)} table(s), {sum(t.rows for t in copied)} row(s); row "
               "counts and checksums match. Set DATABASE_URL to serve from it, with the same "
               "PHOTO_STORE.")


def up_to_date_db():
    """The app's database, refused while migrations are pending (a command must not write
    to a schema it does not know)."""
    db = get_db()
    if pending_migrations(db):
        raise click.ClickException(
            "The database is not up to date: run 'flask --app app db upgrade'."
        )
    return db


@demo_cli.command("load")
def demo_load():
    """Load the demo city (Los Angeles) once; running it again changes nothing."""
    db = up_to_date_db()
    with as_click_errors():
        summary = load_demo(db, LANGUAGES)
    click.echo(summary)


@areas_cli.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--service", help="Code of the service that gets every area of the file.")
@click.option("--service-field", help="Field whose value is each area's service code.")
@click.option("--categories", required=True, help="Comma-separated category codes handled.")
@click.option("--priority", default=0, show_default=True, help="Higher wins where areas overlap.")
@click.option("--crs", help="CRS of a file that declares none, e.g. EPSG:2229.")
@click.option("--layer", help="Layer name (default: the file name); a new load replaces it.")
@click.option("--name-field", help="Field holding each area's name.")
def areas_load(file, service, service_field, categories, priority, crs, layer, name_field):
    """Load a boundary file as a new boundary version and print its validation report."""
    db = up_to_date_db()
    codes = [code.strip() for code in categories.split(",") if code.strip()]
    with as_click_errors():
        version, report = load_boundary_file(
            db, file, codes, service=service, service_field=service_field, priority=priority,
            crs=crs, layer=layer, name_field=name_field,
        )
    for line in report.lines():
        click.echo(line)
    click.echo(f"Loaded as boundary version {version}.")


@areas_cli.command("list")
def areas_list():
    """Show each layer version: services, feature count, bounds and whether it is in force."""
    db = up_to_date_db()
    rows = area_rows.layer_summaries(db)
    if not rows:
        click.echo("No service areas loaded yet.")
    for row in rows:
        state = "in force" if row["in_force"] else "retired"
        click.echo(
            f"v{row['version']} {row['layer']} ({state}): {row['feature_count']} areas, "
            f"services {row['services']}, bounds {row['min_lon']:.5f},{row['min_lat']:.5f} "
            f"to {row['max_lon']:.5f},{row['max_lat']:.5f}, from {row['source']}"
        )


@outbox_cli.command("send")
@click.option("--forever", is_flag=True,
              help="Keep sending as messages become due, until stopped (SIGTERM or Ctrl-C).")
def outbox_send(forever):
    """Plan the e-mails and webhooks of new report events, then send every one that is due."""
    db = up_to_date_db()
    app = current_app._get_current_object()
    if forever:
        click.echo("Sending until stopped.")
        outbox.run_forever(app, db, EmailWriter(app), click.echo)
        return
    planned, result = outbox.send_round(app, db, EmailWriter(app))
    click.echo(f"Planned {planned} message(s); {result}")


@outbox_cli.command("status")
def outbox_status():
    """Count the messages pending, sent and failed, per channel."""
    db = up_to_date_db()
    rows = outbox_rows.state_counts(db)
    for row in rows:
        click.echo(f"{row['channel']} {row['state']}: {row['n']}")
    if not rows:
        click.echo("The outbox is empty.")


@services_cli.command("set")
@click.argument("code")
@click.option("--email", help="Address that receives each new report of the service.")
@click.option("--webhook", help="http(s) URL that receives each new report as JSON (POST).")
@click.option("--open311-endpoint", help="The city's Open311 (GeoReport v2) base URL: each new "
                                         "report is sent there as a service request.")
@click.option("--open311-jurisdiction", help="The jurisdiction_id the city's server expects.")
@click.option("--open311-key-env", help="NAME of the environment variable holding the city's "
                                        "API key (the key itself is never stored).")
@click.option("--open311-service-code", "open311_service_codes", multiple=True,
              help="ours=theirs: the city's service_code for one of our categories "
                   "(repeatable; ours= removes it).")
@click.option("--open311-status", "open311_statuses", multiple=True,
              help="theirs=ours: one of the city's status words as our status (repeatable).")
def services_set(code, email, webhook, open311_endpoint, open311_jurisdiction, open311_key_env,
                 open311_service_codes, open311_statuses):
    """Say where a service's reports are delivered (an empty value removes it)."""
    db = up_to_date_db()
    allow_private = current_app.config["WEBHOOK_ALLOW_PRIVATE"]
    with as_click_errors():
        delivery.set_service_delivery(db, code, email, webhook, allow_private)
        open311_client.set_open311_delivery(
            db, code, open311_endpoint, open311_jurisdiction, open311_key_env,
            open311_service_codes, open311_statuses, allow_private)
    click.echo(f"Service {code} updated.")


@services_cli.command("list")
def services_list():
    """Show each service with its delivery e-mail, webhook and Open311 server."""
    db = up_to_date_db()
    city = {row["code"]: row for row in open311_rows.open311_services(db)}
    for service in catalog.all_services(db):
        line = (f"{service['code']}: {service['name']}; e-mail {service['email'] or '-'}; "
                f"webhook {service['webhook_url'] or '-'}")
        if service["code"] in city:
            row = city[service["code"]]
            line += (f"; Open311 {row['open311_endpoint']} (jurisdiction "
                     f"{row['open311_jurisdiction'] or '-'}, key from "
                     f"${row['open311_key_env'] or '-'}, codes {row['open311_service_codes']}, "
                     f"statuses {row['open311_statuses']})")
        click.echo(line)


@services_cli.command("discover")
@click.argument("url")
@click.option("--jurisdiction", help="The jurisdiction_id the city's server expects.")
def services_discover(url, jurisdiction):
    """List the services of a city's Open311 server at URL (its GeoReport v2 base URL), to
    map our categories to theirs with 'services set --open311-service-code'."""
    settings = delivery.WebhookSettings.from_config(current_app.config)
    with as_click_errors():
        try:
            services = open311_client.discover(url, jurisdiction, settings)
        except OSError as error:
            raise click.ClickException(f"Could not reach {url}: {error}") from None
    for code, name, group in services:
        click.echo(f"{code}\t{name}" + (f"\t({group})" if group else ""))
    if not services:
        click.echo("The server lists no services.")


@open311_cli.command("fetch-updates")
@click.option("--forever", is_flag=True,
              help="Keep polling every OPEN311_FETCH_POLL_SECONDS until stopped.")
def open311_fetch_updates(forever):
    """Read the updates of the cities' Open311 servers on the reports sent to them, and
    record each new one once (on the public page, in alerts and in our own Open311)."""
    db = up_to_date_db()
    config = current_app.config
    settings = delivery.WebhookSettings.from_config(config)
    days = config["OPEN311_FETCH_DAYS"]
    if forever:
        click.echo("Fetching until stopped.")
        open311_client.fetch_forever(db, settings, days,
                                     float(config["OPEN311_FETCH_POLL_SECONDS"]), click.echo)
        return
    results = open311_client.fetch_all_updates(db, settings, days)
    for result in results:
        click.echo(str(result))
    if not results:
        click.echo("No service is delivered over Open311.")


@names_cli.command("translate")
@click.argument("kind", type=click.Choice(["category", "service"]))
@click.argument("code")
@click.argument("language", type=click.Choice(sorted(LANGUAGES)))
@click.argument("name")
def names_translate(kind, code, language, name):
    """Name a category or service in another language, e.g. category pothole fr "Nid-de-poule"."""
    db = up_to_date_db()
    with as_click_errors():
        check_xml_safe(name, "The name")
    with db.atomic():
        known = catalog.set_translated_name(db, kind, code, language, name.strip())
    if not known:
        raise click.ClickException(f"There is no {kind} {code!r}.")
    click.echo(f"{kind} {code} is {name.strip()!r} in {LANGUAGES[language]}.")


@reports_cli.command("reroute")
@click.option("--dry-run", is_flag=True, help="Only count what would change.")
def reports_reroute(dry_run):
    """Route stored reports against the current boundary version; apply changes as events."""
    db = up_to_date_db()
    summary = reroute_reports(db, get_router(), apply=not dry_run)
    for line in summary.lines():
        click.echo(line)
    click.echo("Dry run: nothing changed." if dry_run else "Changes applied as report events.")


@reports_cli.command("geocode")
@click.option("--all", "everything", is_flag=True,
              help="Also reports that have an address (after loading a new address file).")
def reports_geocode(everything):
    """Give stored reports the nearest address (within 150 m) as their address."""
    db = up_to_date_db()
    checked, found = places.geocode_reports(db, everything=everything)
    click.echo(f"Checked {checked} report(s): {found} given an address, "
               f"{checked - found} with no address point within 150 m.")


@addresses_cli.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--address-field", help="Field holding the one-line address (default: the "
              "OpenAddresses NUMBER, STREET, CITY, POSTCODE fields, or 'address').")
@click.option("--lon-field", help="CSV column of the longitude (default: LON or longitude).")
@click.option("--lat-field", help="CSV column of the latitude (default: LAT or latitude).")
@click.option("--crs", help="CRS of a file that declares none, e.g. EPSG:2229.")
def addresses_load(file, address_field, lon_field, lat_field, crs):
    """Replace the address points with those of a CSV or GeoJSON file, in one transaction."""
    db = up_to_date_db()
    with as_click_errors():
        load = address_load.load_address_file(
            db, file, address_field=address_field, lon_field=lon_field, lat_field=lat_field,
            crs=crs)
    for line in load.lines():
        click.echo(line)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "dispatcher"]), required=True)
@click.option("--service", "services", multiple=True, help="Service code (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(email, role, services, password_stdin):
    """Create a staff account; the password is prompted for, or read from stdin."""
    db = up_to_date_db()
    password = read_password(password_stdin)
    with as_click_errors():
        create_staff_user(db, email, password, role, services)
    click.echo(f"Created {role} {email}" + (f" for {', '.join(services)}." if services else "."))


def read_password(from_stdin):
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_set_password(email, password_stdin):
    """Give a staff account a new password; its open sessions are logged out."""
    db = up_to_date_db()
    password = read_password(password_stdin)
    with as_click_errors():
        change_password(db, email, password)
    click.echo(f"New password set for {email}; its sessions are logged out.")


@apikeys_cli.command("create")
@click.argument("name")
@click.option("--rate", help='The key\'s own limit, e.g. "600 per hour" (default: '
                             "OPEN311_KEY_RATE_LIMIT).")
def apikeys_create(name, rate):
    """Create an Open311 API key for the organisation NAME and print it (shown only once)."""
    db = up_to_date_db()
    with as_click_errors():
        check_xml_safe(name, "The name")
    if apikeys.key_named(db, name):
        raise click.ClickException(f"There is already a key named {name!r}.")
    if rate is not None:
        rate = checked_rate(rate)
    key = secrets.token_urlsafe(24)
    apikeys.create_key(db, name, key, rate)
    click.echo(key)


def checked_rate(text):
    """A limit Flask-Limiter understands, such as "600 per hour"."""
    try:
        parse_many(text)
    except ValueError:
        raise click.ClickException(f"{text!r} is not a rate such as '600 per hour'.") from None
    return text.strip()


@apikeys_cli.command("revoke")
@click.argument("name")
def apikeys_revoke(name):
    """Revoke the Open311 API key named NAME."""
    db = up_to_date_db()
    if not apikeys.revoke_key(db, name):
        raise click.ClickException(f"There is no active key named {name!r}.")
    click.echo(f"Revoked {name}.")


def instance_paths():
    return database_target(current_app), get_photo_store().root


@click.command("backup")
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(destination):
    """Copy the database (online, consistent) and its photos into DESTINATION."""
    database, photos = instance_paths()
    with as_click_errors():
        target, copied = maintenance.backup(database, photos, destination)
    click.echo(f"Backed up the database to {target} and {copied} photo file(s).")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing database.")
@with_appcontext
def restore_command(source, force):
    """Restore a backup folder made by 'backup' into this instance."""
    database, photos = instance_paths()
    with as_click_errors():
        copied = maintenance.restore(source, database, photos, force=force)
    click.echo(f"Restored the database from {source} and {copied} photo file(s).")


@photos_cli.command("gc")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def photos_gc(dry_run):
    """Remove photo files no report refers to, photos the form uploaded for a report that
    never came (after STAGED_PHOTO_HOURS), and abandoned temporary files."""
    db = get_db()
    check = maintenance.collect_photo_garbage(db, get_photo_store(), dry_run=dry_run,
                                              staged_hours=current_app.config["STAGED_PHOTO_HOURS"])
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{check.expired_staged} expired staged photo(s) forgotten, "
               f"{len(check.orphans)} orphan photo file(s) {verb}, "
               f"{len(check.stale_temporary)} stale temporary file(s) {verb}.")
    if check.missing:
        click.echo(f"{len(check.missing)} referenced photo file(s) are missing: "
                   + ", ".join(check.missing[:10]))


@privacy_cli.command("erase")
@click.option("--email", help="The person's e-mail address.")
@click.option("--phone", help="The person's phone number (as an Open311 client sent it; "
                              "spaces and punctuation do not matter).")
def privacy_erase(email, phone):
    """Remove a person's contact data: reports (which stay, anonymous), supports, alerts."""
    if not (email or phone):
        raise click.ClickException("Give --email, --phone or both.")
    with as_click_errors():
        if email:
            say_erased(email, maintenance.erase_contact(get_db(), email,
                                                        current_app.config["SECRET_KEY"]))
        if phone:
            say_erased(phone, maintenance.erase_phone(get_db(), phone))


def say_erased(who, erased):
    click.echo(f"Erased the contact data of {who} from {erased}; each report is logged.")
    warn_unless_checkpointed(erased.checkpointed)


@privacy_cli.command("retention")
def privacy_retention():
    """Anonymise contact data older than CONTACT_RETENTION_MONTHS; drop stale alerts."""
    months = current_app.config["CONTACT_RETENTION_MONTHS"]
    done = maintenance.apply_retention(get_db(), months,
                                       current_app.config["UNCONFIRMED_DAYS"])
    click.echo(f"Anonymised {done.reports} report(s) older than {months} month(s); deleted "
               f"{done.messages} sent or failed outbox message(s) as old; cleared the e-mail "
               f"of {done.supports} support(s); deleted {done.subscriptions} unconfirmed, "
               "unsubscribed or finished alert subscription(s) and "
               f"{done.unconfirmed_supports} unconfirmed support(s).")
    warn_unless_checkpointed(done.checkpointed)


def warn_unless_checkpointed(checkpointed):
    if not checkpointed:
        click.echo("Warning: a reader kept the write-ahead log busy, so erased data may "
                   "remain in it until the next checkpoint: run the command again.", err=True)


@exports_cli.command("refresh")
@click.option("--if-stale", is_flag=True,
              help="Only when older than EXPORT_MAX_AGE_SECONDS (or missing).")
def exports_refresh(if_stale):
    """Regenerate the full CSV and GeoJSON exports that /api/reports.csv and
    /api/reports.geojson?download=1 serve."""
    db = up_to_date_db()
    app = current_app._get_current_object()
    if not exports.refresh(app, db, SiteLinks(app), only_if_stale=if_stale):
        click.echo("The exports are up to date.")
        return
    for fmt in exports.FORMATS:
        path = exports.export_path(app, fmt)
        click.echo(f"Wrote {path} ({path.stat().st_size:,} bytes).")


@questions_cli.command("list")
@click.option("--category", help="Only this category's questions.")
def questions_list(category):
    """Show each category's questions in the order they are asked."""
    db = up_to_date_db()
    found = [q for q in question_rows.all_questions(db) if category in (None, q["category"])]
    for q in found:
        flags = [q["datatype"], "required" if q["required"] else "optional",
                 "public" if q["public"] else "staff only"] + ([] if q["variable"] else ["info"])
        keys = ", ".join(v["key"] + (" (blocking)" if v["blocking"] else "") for v in q["values"])
        click.echo(f"{q['category']} {q['position']}. {q['code']} ({'; '.join(flags)}): "
                   f"{q['description']}" + (f" [{keys}]" if keys else ""))
    if not found:
        click.echo("No questions yet.")


@questions_cli.command("add")
@click.argument("category")
@click.argument("code")
@click.argument("datatype", type=click.Choice(questions.DATATYPES))
@click.argument("description")
@click.option("--required", is_flag=True, help="An answer is required.")
@click.option("--info", is_flag=True, help="An information line, not a question.")
@click.option("--staff-only", is_flag=True, help="Answers are not shown publicly.")
@click.option("--help-text", default="", help="Help shown under the question.")
@click.option("--value", "values", multiple=True,
              help='A list answer "key|name" or "key|name|blocking message" (repeatable).')
def questions_add(category, code, datatype, description, required, info, staff_only,
                  help_text, values):
    """Add (or replace) the question CODE of CATEGORY; a new one is asked last."""
    db = up_to_date_db()
    with as_click_errors():
        is_new = questions.save(db, category, {
            "code": code, "datatype": datatype, "description": description,
            "required": required, "variable": not info, "public": not staff_only,
            "datatype_description": help_text,
            "values": questions.values_from_lines("\n".join(values))})
    click.echo(f"{'Added' if is_new else 'Replaced'} question {code} of {category}.")


@questions_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def questions_import(file):
    """Add or replace the questions of a JSON file (as written by 'questions export')."""
    db = up_to_date_db()
    try:
        document = json.load(file)
    except ValueError as error:
        raise click.ClickException(f"{file.name} is not JSON: {error}") from None
    with as_click_errors():
        new, replaced = questions.import_definitions(db, document)
    click.echo(f"Imported {new} new question(s), replaced {replaced}.")


@questions_cli.command("export")
@click.argument("file", type=click.File("w", encoding="utf-8"), default="-")
def questions_export(file):
    """Write every question as JSON to FILE (default: standard output)."""
    file.write(questions.to_json(questions.export_definitions(up_to_date_db())) + "\n")


templates_cli = AppGroup("templates", help="Response templates: canned public notes.")
targets_cli = AppGroup("targets", help="Hours to acknowledge and fix each category's reports.")
digests_cli = AppGroup("digests", help="The daily overdue digest of each service.")


@templates_cli.command("add")
@click.argument("service")
@click.option("--category", help="Only for this category's reports (code).")
@click.option("--status", help="Only for this status (its code, e.g. fixed).")
@click.option("--language", default="en", show_default=True, help="Interface language.")
@click.option("--title", required=True, help="What staff pick it by.")
@click.argument("text")
def templates_add(service, category, status, language, title, text):
    """Add a response template of SERVICE; TEXT may hold {number}, {category}, {address},
    {due}."""
    db = up_to_date_db()
    with as_click_errors(), db.atomic():
        template_id = response_templates.save_template(db, LANGUAGES, service, category,
                                                       status, language, title, text)
    click.echo(f"Template {template_id} added.")


@templates_cli.command("list")
def templates_list():
    """Show every response template."""
    db = up_to_date_db()
    rows = template_rows.templates_of(db, None)
    for row in rows:
        scope = " ".join(filter(None, (row["category_code"], row["status"])))
        click.echo(f"{row['id']}: {row['service_code']} [{row['locale']}] "
                   f"{scope + ' ' if scope else ''}{row['title']!r}: {row['text']}")
    if not rows:
        click.echo("No response templates.")


@templates_cli.command("remove")
@click.argument("template_id", type=int)
def templates_remove(template_id):
    """Delete a response template by its number."""
    db = up_to_date_db()
    with as_click_errors(), db.atomic():
        response_templates.remove_template(db, template_id)
    click.echo(f"Template {template_id} removed.")


@targets_cli.command("set")
@click.argument("category")
@click.option("--service", help="Only for this service's reports (code).")
@click.option("--acknowledge-hours", type=float, help="Hours a new report may wait to be "
              "acknowledged.")
@click.option("--fix-hours", type=float, help="Hours from the report to the fix.")
def targets_set(category, service, acknowledge_hours, fix_hours):
    """Set the target of CATEGORY (for every service, or one with --service)."""
    db = up_to_date_db()
    with as_click_errors():
        targets.set_target(db, category, service, acknowledge_hours, fix_hours)
    click.echo(f"Target of {category}{' for ' + service if service else ''} set.")


@targets_cli.command("list")
def targets_list():
    """Show every target."""
    db = up_to_date_db()
    rows = target_rows.all_targets(db)
    for row in rows:
        click.echo(f"{row['category_code']} ({row['service_code'] or 'every service'}): "
                   f"acknowledge {row['acknowledge_hours'] or '-'} h, "
                   f"fix {row['fix_hours'] or '-'} h")
    if not rows:
        click.echo("No targets.")


@digests_cli.command("send")
def digests_send():
    """Queue today's overdue digest of each service (once per day: the city's day)."""
    db = up_to_date_db()
    app = current_app._get_current_object()
    sent = digests.send_digests(db, EmailWriter(app), city_zone())
    for digest in sent:
        click.echo(f"{digest.service}: {digest.overdue} overdue ({digest.newly_overdue} new) "
                   f"to {', '.join(digest.recipients)}.")
    click.echo(f"Queued {len(sent)} digest(s); 'flask --app app outbox send' delivers them.")


city_cli = AppGroup("city", help="A city from files alone: its folder (docs/city-folder.md).")


@city_cli.command("load")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and show what would change; store "
              "nothing.")
def city_load(folder, dry_run):
    """Check a city folder (every problem at once), then load it in one transaction."""
    db = up_to_date_db()
    with as_click_errors():
        load = city.load_city_folder(db, folder, LANGUAGES, dry_run=dry_run,
                                     allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    for line in load.lines():
        click.echo(line)
    if dry_run:
        click.echo("Dry run: nothing was stored.")


@city_cli.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def city_export(folder):
    """Write the running city (settings, catalogue, areas, questions, targets, addresses,
    public reports as history) as a city folder."""
    db = up_to_date_db()
    with as_click_errors():
        exported = city.export_city_folder(db, folder, current_app.config)
    click.echo(f"City folder: {folder}")
    for line in exported.lines():
        click.echo(line)


def register(app):
    app.cli.add_command(city_cli)
    for group in (db_cli, demo_cli, areas_cli, reports_cli, users_cli, apikeys_cli, photos_cli,
                  privacy_cli, outbox_cli, services_cli, names_cli, exports_cli, backup_command,
                  restore_command, addresses_cli, questions_cli, templates_cli, targets_cli,
                  digests_cli, open311_cli):
        app.cli.add_command(group)
