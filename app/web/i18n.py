"""Languages of the interface (Flask-Babel): chosen by the switcher's cookie, else by the
browser's Accept-Language, else the default; names of categories and services translated
from the database."""

from flask import current_app, g, has_request_context, redirect, request, url_for
from flask_babel import Babel, get_locale, gettext

from app.errors import Name, NotFound, Text
from app.statuses import STATUSES
from app.storage import catalog
from app.web.db import get_db
from app.web.security import local_path

#: Languages the interface is translated into, each named in itself for the switcher.
LANGUAGES = {"en": "English", "fr": "Français"}
LANGUAGE_COOKIE = "lang"
ONE_YEAR = 365 * 24 * 3600


def select_locale():
    if has_request_context():
        chosen = request.cookies.get(LANGUAGE_COOKIE)
        if chosen in LANGUAGES:
            return chosen
        best = request.accept_languages.best_match(LANGUAGES)
        if best:
            return best
    return current_app.config["BABEL_DEFAULT_LOCALE"]


babel = Babel()


def current_language():
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def name_of(kind, code, default):
    """A category's or service's name in the current language, if translated."""
    names = g.get("translated_names")
    if names is None:
        names = g.translated_names = catalog.translated_names(get_db(), current_language())
    return names.get((kind, code), default)


def translated(text):
    """A :class:`Text` from a lower layer in the reader's language, with what it holds."""
    return gettext(text.template, **{key: _in_language(value) for key, value in
                                     text.params.items()})


def _in_language(value):
    if isinstance(value, Text):
        return translated(value)
    if isinstance(value, Name):
        return name_of(value.kind, value.code, value.english)
    return value


def message_of(error):
    """What an :class:`AppError` says to the person reading this page (every problem of a
    form, one after the other, when it found several)."""
    fields = getattr(error, "fields", None)
    if fields:
        return " ".join(translated(text) for text in fields.values())
    return translated(error.text)


def field_messages(error):
    """Each field's problem in the reader's language ({} for an error about no one field)."""
    return {name: translated(text) for name, text in getattr(error, "fields", {}).items()}


def switch_language(code, back):
    """Remember the chosen language in a cookie for a year and go back where the user was."""
    if code not in LANGUAGES:
        raise NotFound("There is no %(code)r version of this site.", code=code)
    response = redirect(local_path(back) or url_for("reports.home"), code=303)
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=ONE_YEAR, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def register(app):
    app.jinja_env.globals.update(name_of=name_of, statuses=STATUSES, languages=LANGUAGES,
                                 current_language=current_language,
                                 ui_text=ui_text, message_of=message_of)
    app.add_url_rule("/language/<code>", "language", language, methods=["GET", "POST"])


def language(code):
    """The switcher posts the page to go back to, so a private link (a manage or alert
    token) never becomes a query string that access logs and Referers keep; a GET with
    ``next`` still works for old links."""
    return switch_language(code, request.values.get("next"))


def ui_text():
    """The words the page scripts show, in the current language ({name} placeholders)."""
    return {
        "photo_of_report": gettext("Photo of the report"),
        "photo_of_report_n": gettext("Photo of report {id}"),
        "open_report": gettext("Open report #{id}"),
        "see_report": gettext("See report #{id}"),
        "many_reports": gettext("Many reports here: numbers show how many. "
                                "Zoom in to see them."),
        "cluster_title": gettext("{count} reports here: zoom in"),
        "one_report_in_view": gettext("1 report in this view."),
        "reports_in_view": gettext("{count} reports in this view."),
        "load_failed": gettext("The reports could not be loaded."),
        "pin_placed": gettext("Pin placed."),
        "kinds_handled": gettext("{count} kinds of problem are handled here."),
        "metres_away": gettext("{distance} m away"),
        "me_too_count": gettext("{count} me too"),
        "me_too": gettext("Me too"),
        "counted": gettext("Thank you: counted"),
        "confirm_in_mailbox": gettext("Check your mailbox: it counts once you confirm"),
        "pin_title": gettext("Report position"),
        "no_geolocation": gettext("Your browser cannot share its location: tap the map "
                                  "instead."),
        "finding_location": gettext("Finding your location…"),
        "pin_at_location": gettext("Pin placed at your location. Drag it if needed."),
        "location_unavailable": gettext("Your location is not available: tap the map "
                                        "instead."),
        "pin_at_photo": gettext("Pin placed where your photo was taken. Drag it if needed."),
        "pin_label": gettext("Report #{id}: {category}, {status}"),
        "show_on_map": gettext("Show on the map"),
        "show_on_map_n": gettext("Show report #{id} on the map"),
        "list_zoom_in": gettext("Too many reports in this view to list: zoom in, or see all "
                                "reports page by page."),
        "list_newest": gettext("The {shown} newest of the {count} reports in this view."),
        "list_empty": gettext("No report in this view."),
        "draft_saved": gettext("Saved on this phone: it will be sent when you are online."),
        "draft_not_saved": gettext("This phone could not keep the draft: try again when you "
                                   "are online."),
        "draft_incomplete": gettext("Without a connection the form cannot be checked: place "
                                    "the pin, choose the kind of problem and describe it, then "
                                    "press Send again."),
        "draft_waiting": gettext("Waiting for a connection: it will be sent once."),
        "draft_details": gettext("Saved {saved} · photos: {photos}"),
        "draft_refused": gettext("Not sent: {message}"),
        "draft_sent": gettext("Sent: report #{id}"),
        "draft_deleted": gettext("Draft deleted."),
        "delete_draft": gettext("Delete this draft"),
        "photo_kept": gettext("Photo kept on this phone: it goes with the report."),
        "tap_again": gettext("Zoomed in where you tapped: tap again to place the pin "
                             "exactly."),
        "centre_zoomed": gettext("Zoomed in on the centre of the map: move the map so the "
                                 "problem is in the middle, and press again."),
        "pin_at_place": gettext("Pin placed at {address}. Drag it if needed."),
        "places_found": gettext("{count} places found: use the up and down arrows to "
                                "choose."),
        "one_place_found": gettext("1 place found: use the down arrow to choose it."),
        "no_place_found": gettext("No address matches “{text}”. Try the street name alone, "
                                  "or tap the map."),
        "places_unavailable": gettext("The address search is not available: tap the map "
                                      "instead."),
        "photo_n": gettext("Photo {number}"),
        "remove_photo": gettext("Remove photo {number}"),
        "uploading_photo": gettext("Uploading the photo…"),
        "photo_added": gettext("Photo added."),
        "photo_removed": gettext("Photo removed."),
        "photo_not_sent": gettext("The photo could not be uploaded: check your connection "
                                  "and try again."),
        "too_many_photos": gettext("You can attach at most {count} photos."),
        "waiting_for_photos": gettext("Waiting for the photos to finish uploading…"),
        "sending": gettext("Sending your report…"),
        "link_copied": gettext("Link copied."),
        "link_not_copied": gettext("The link could not be copied: select it and copy it."),
        "sent_on": gettext("Sent {date}"),
        "forget_on_phone": gettext("Forget report #{id} on this phone"),
    }
