"""A city from files alone: a folder with ``city.toml`` and the files it names, checked as a
whole, then loaded in one transaction; and the running city written back out as a folder.

The format is documented in ``docs/city-folder.md``. Operators run this from the command
line, so its messages are in English. Loading is idempotent: every part is compared with
what is stored (names, settings, a fingerprint of each file and its mapping) and only what
differs is written; a boundary file that changed becomes a new boundary version and the
stored reports are routed again, as ``areas load`` then ``reports reroute`` would.
"""

import csv
import hashlib
import json
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import shapely
import shapely.geometry

from app.config import defaults as setting_defaults
from app.dispatch import targets
from app.errors import AppError, ValidationError
from app.fields import check_email, is_http_url, xml_unsafe_character
from app.messaging import delivery
from app.reporting import address_load, places, questions
from app.reporting.areas import build_router, load_boundary_file, reroute_reports
from app.statuses import STATUSES
from app.storage import catalog
from app.storage import city as city_rows
from app.storage import reports as report_rows
from app.storage import targets as target_rows
from geo.boundaries import read_boundaries
from geo.errors import GeoError

CITY_FILE = "city.toml"
#: The keys each table of city.toml may hold; any other key is a mistake worth reporting.
KEYS = {
    "": {"city", "map", "data", "services", "categories", "boundaries", "questions",
         "addresses", "history"},
    "city": {"name", "languages", "time_zone", "open311_jurisdiction", "open311_contact"},
    "map": {"tile_url", "tile_attribution", "centre", "zoom"},
    "data": {"licence", "attribution"},
    "services": {"code", "names", "email", "webhook", "target_days"},
    "categories": {"code", "names", "service", "areas", "acknowledge_hours", "fix_hours"},
    "boundaries": {"name", "file", "name_field", "priority", "crs", "layer"},
    "questions": {"file"},
    "addresses": {"file", "address_field", "lon_field", "lat_field", "crs"},
    "history": {"file", "source", "id_prefix", "id_field", "lon_field", "lat_field",
                "created_field", "created_format", "category", "category_field", "categories",
                "other_categories", "status", "status_field", "statuses", "closed_field",
                "status_note", "description", "actor"},
}
REQUIRED = {
    "city": ("name", "languages", "time_zone"),
    "services": ("code", "names"),
    "categories": ("code", "names", "service", "areas"),
    "boundaries": ("name", "file"),
    "questions": ("file",),
    "addresses": ("file",),
    "history": ("file", "source", "id_field", "lon_field", "lat_field", "created_field",
                "created_format"),
}
#: city.toml (table, key) -> the app setting it gives; the running app reads them at start.
SETTINGS = {
    ("city", "name"): "SITE_NAME",
    ("city", "time_zone"): "TIME_ZONE",
    ("city", "open311_jurisdiction"): "OPEN311_JURISDICTION",
    ("city", "open311_contact"): "OPEN311_CONTACT",
    ("map", "tile_url"): "TILE_URL",
    ("map", "tile_attribution"): "TILE_ATTRIBUTION",
    ("map", "centre"): "MAP_CENTRE",
    ("map", "zoom"): "MAP_ZOOM",
    ("data", "licence"): "DATA_LICENSE",
    ("data", "attribution"): "DATA_ATTRIBUTION",
}
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: What a past report may be; each but "new" is recorded as a status change.
HISTORY_STATUSES = tuple(STATUSES)
MOST_ROW_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a city folder, where it is."""

    file: str
    line: int | None
    message: str

    def __str__(self):
        return f"{self.file}:{self.line}: {self.message}" if self.line else \
            f"{self.file}: {self.message}"


class CityFolderError(ValidationError):
    """Every problem of a city folder at once; nothing was loaded."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("The city folder has %(count)s problem(s); nothing was loaded:\n"
                         "%(lines)s", count=len(self.problems),
                         lines="\n".join(str(p) for p in self.problems))


class _Lines:
    """Line numbers of city.toml's tables and keys (tomllib gives values, not positions)."""

    HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")
    KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")

    def __init__(self, text):
        self.tables, self.keys = {}, {}
        counts, where = {}, ("", 0)
        for number, line in enumerate(text.splitlines(), start=1):
            header = self.HEADER.match(line)
            if header:
                name = header.group(2)
                index = counts.get(name, 0) if header.group(1) == "[[" else 0
                counts[name] = index + 1 if header.group(1) == "[[" else 0
                where = (name, index)
                self.tables.setdefault(where, number)
            elif key := self.KEY.match(line):
                self.keys.setdefault((*where, key.group(1)), number)

    def of(self, table, index=0, key=None):
        return self.keys.get((table, index, key)) or self.tables.get((table, index))


@dataclass
class CityFolder:
    """A city folder read and checked: its parsed city.toml, where each thing is, and the
    boundary files already read."""

    path: Path
    config: dict
    lines: _Lines
    problems: list = field(default_factory=list)
    boundaries: dict = field(default_factory=dict)

    def problem(self, message, table="", index=0, key=None, file=CITY_FILE, line=None):
        self.problems.append(Problem(file, line or self.lines.of(table, index, key), message))

    def file(self, name):
        return self.path / name

    @property
    def languages(self):
        return self.config["city"]["languages"]

    def entries(self, table):
        return self.config.get(table, [])


# Reading and checking ---------------------------------------------------------------------


def read_city_folder(path, languages):
    """Read and check the folder at ``path`` against the site's ``languages``; return a
    CityFolder, or raise CityFolderError with every problem found."""
    path = Path(path)
    toml = path / CITY_FILE
    if not toml.is_file():
        raise CityFolderError([Problem(str(toml), None, "there is no city.toml here.")])
    text = toml.read_text(encoding="utf-8")
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CityFolderError([Problem(CITY_FILE, None, f"not valid TOML: {error}")]) from None
    folder = CityFolder(path, config, _Lines(text))
    if _check_structure(folder):
        _check_city(folder, languages)
        _check_catalogue(folder)
        _check_boundaries(folder)
        _check_questions(folder)
        _check_addresses(folder)
        _check_history(folder)
    if folder.problems:
        raise CityFolderError(folder.problems)
    return folder


def _check_structure(folder):
    """Unknown tables and keys, missing required keys, values of the wrong type, and tables
    of the wrong shape; return whether the rest can be checked (True when, at most, unknown
    keys were found: they are noted and left out)."""
    config, usable = folder.config, True
    for key in sorted(set(config) - KEYS[""]):
        folder.problem(f"unknown field {key!r}.", key=key, table=key)
    if "city" not in config:
        folder.problem("the [city] table is missing (name, languages, time_zone).")
        usable = False
    for table in sorted(set(config) & KEYS[""]):
        many = table in ("services", "categories", "boundaries")
        value = config[table]
        if many != isinstance(value, list) or not all(
                isinstance(e, dict) for e in (value if many else [value])):
            shape = f"[[{table}]] entries" if many else f"a [{table}] table"
            folder.problem(f"{table} must be {shape}.", table=table)
            usable = False
            continue
        for index, entry in enumerate(value if many else [value]):
            usable &= _check_keys(folder, table, index, entry)
    return usable


def _check_keys(folder, table, index, entry):
    """Note unknown keys (and leave them out); return False when a required key is missing
    or a value has the wrong type."""
    usable = True
    for key in sorted(set(entry) - KEYS[table]):
        folder.problem(f"unknown field {key!r} in [{table}]; known fields: "
                       f"{', '.join(sorted(KEYS[table]))}.", table, index, key)
        del entry[key]
    for key in REQUIRED.get(table, ()):
        if key not in entry:
            folder.problem(f"[{table}] needs {key!r}.", table, index)
            usable = False
    for key, value in entry.items():
        kind = _expected_type(table, key)
        if not _is_a(value, kind):
            folder.problem(f"{key} must be {TYPE_WORDS[kind]}.", table, index, key)
            usable = False
        elif isinstance(value, str) and xml_unsafe_character(value) is not None:
            folder.problem(f"{key} holds a control character.", table, index, key)
    return usable


#: The type of each city.toml value that is not a text.
TYPES = {
    ("city", "languages"): "texts", ("services", "names"): "names",
    ("categories", "names"): "names", ("categories", "areas"): "text or texts",
    ("categories", "acknowledge_hours"): "number", ("categories", "fix_hours"): "number",
    ("services", "target_days"): "whole", ("boundaries", "priority"): "whole",
    ("history", "categories"): "names", ("history", "statuses"): "names",
    ("map", "centre"): "position", ("map", "zoom"): "whole",
}
TYPE_WORDS = {"text": "a text", "texts": "a list of texts", "names": "a table of texts",
              "text or texts": "a text or a list of texts", "number": "a number",
              "whole": "a whole number", "position": "a [longitude, latitude] pair"}


def _expected_type(table, key):
    return TYPES.get((table, key), "text")


def _is_a(value, kind):
    texts = isinstance(value, list) and all(isinstance(v, str) for v in value)
    return {
        "text": isinstance(value, str),
        "texts": texts,
        "names": isinstance(value, dict) and all(isinstance(v, str) for v in value.values()),
        "text or texts": isinstance(value, str) or texts,
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "whole": isinstance(value, int) and not isinstance(value, bool),
        "position": isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value),
    }[kind]


def _check_city(folder, languages):
    city = folder.config["city"]
    offered = city["languages"]
    if not (isinstance(offered, list) and offered and all(c in languages for c in offered)):
        folder.problem(f"languages must be a list of the site's languages "
                       f"({', '.join(sorted(languages))}), the default first.",
                       "city", key="languages")
        city["languages"] = ["en"]
    try:
        ZoneInfo(str(city["time_zone"]))
    except (ZoneInfoNotFoundError, ValueError, OSError):
        folder.problem(f"unknown time zone {city['time_zone']!r} (an IANA name such as "
                       "Europe/Paris).", "city", key="time_zone")
    licence = folder.config.get("data", {}).get("licence")
    if licence is not None and not is_http_url(str(licence)):
        folder.problem("licence must be an http(s) URL.", "data", key="licence")
    _check_map_view(folder, folder.config.get("map", {}))


def _check_map_view(folder, entry):
    """The map's centre (lon, lat) and zoom: both or neither, each in range."""
    if ("centre" in entry) != ("zoom" in entry):
        folder.problem("give the map's centre and zoom together (or neither: the maps then "
                       "fit the areas).", "map", key="centre" if "centre" in entry else "zoom")
    if "centre" in entry:
        lon, lat = entry["centre"]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            folder.problem(f"centre {[lon, lat]} is not [longitude, latitude] (longitude "
                           "from -180 to 180, latitude from -90 to 90).", "map", key="centre")
    if "zoom" in entry and not 1 <= entry["zoom"] <= 19:
        folder.problem(f"zoom {entry['zoom']} must be from 1 (the world) to 19 (a street).",
                       "map", key="zoom")


def _check_catalogue(folder):
    services = _check_named(folder, "services")
    boundaries = {b.get("name") for b in folder.entries("boundaries")}
    for index, service in enumerate(folder.entries("services")):
        _check_delivery(folder, index, service)
    _check_named(folder, "categories")
    for index, category in enumerate(folder.entries("categories")):
        if category["service"] not in services:
            folder.problem(f"category {category['code']!r} names the service "
                           f"{category['service']!r}, which is not among the [[services]].",
                           "categories", index, "service")
        for name in _as_list(category["areas"]):
            if name not in boundaries:
                folder.problem(f"category {category['code']!r} names the boundaries "
                               f"{name!r}, which are not among the [[boundaries]].",
                               "categories", index, "areas")
        for key in ("acknowledge_hours", "fix_hours"):
            if key in category:
                value = category[key]
                if not 0 < value <= targets.MAX_HOURS:
                    folder.problem(f"{key} must be a number of hours above 0 and at most "
                                   f"{targets.MAX_HOURS}.", "categories", index, key)


def _check_named(folder, table):
    """Codes unique and well formed, a name in each offered language; return the codes."""
    seen = set()
    for index, entry in enumerate(folder.entries(table)):
        code = entry["code"]
        if not (isinstance(code, str) and CODE.match(code)):
            folder.problem(f"the code {code!r} may hold only letters, digits, '.', '_' and "
                           "'-' (at most 64).", table, index, "code")
        elif code in seen:
            folder.problem(f"duplicate code {code!r} in [[{table}]].", table, index, "code")
        seen.add(code)
        names = entry["names"]
        if not isinstance(names, dict) or not all(
                isinstance(names.get(lang), str) and names[lang].strip()
                for lang in folder.languages):
            folder.problem(f"{code!r} needs a name in each language "
                           f"({', '.join(folder.languages)}).", table, index, "names")
        elif set(names) - set(folder.languages):
            folder.problem(f"{code!r} is named in a language the city does not offer: "
                           f"{', '.join(sorted(set(names) - set(folder.languages)))}.",
                           table, index, "names")
    return seen


def _check_delivery(folder, index, service):
    days = service.get("target_days")
    if days is not None and not 0 < days <= 366:
        folder.problem("target_days must be a whole number of days from 1 to 366.",
                       "services", index, "target_days")
    email, webhook = service.get("email"), service.get("webhook")
    if email is not None:
        try:
            check_email(str(email))
        except AppError as error:
            folder.problem(f"email: {error}", "services", index, "email")
    if webhook is not None and not is_http_url(str(webhook)):
        folder.problem("webhook must be an http(s) URL.", "services", index, "webhook")


def _check_boundaries(folder):
    seen = set()
    for index, entry in enumerate(folder.entries("boundaries")):
        name = entry["name"]
        if name in seen:
            folder.problem(f"duplicate boundaries name {name!r}.", "boundaries", index, "name")
        seen.add(name)
        try:
            layer_name(entry, "service")
        except (KeyError, ValueError, IndexError, AttributeError):
            folder.problem("layer may hold only {name} and {service}, e.g. "
                           "\"{name}-{service}\".", "boundaries", index, "layer")
        path = _existing_file(folder, "boundaries", index, entry["file"])
        if path is None:
            continue
        try:
            layer = read_boundaries(path, crs=entry.get("crs"))
        except GeoError as error:
            folder.problem(f"{entry['file']}: {error}", "boundaries", index, "file")
            continue
        name_field = entry.get("name_field")
        if name_field and name_field not in layer.fields:
            folder.problem(f"{entry['file']} has no field {name_field!r}; its fields are: "
                           f"{', '.join(layer.fields)}.", "boundaries", index, "name_field")
        folder.boundaries[name] = layer


def _existing_file(folder, table, index, name):
    """The path of a file the folder names, or None after noting that it is missing."""
    if not isinstance(name, str) or Path(name).is_absolute() or ".." in Path(name).parts:
        folder.problem(f"file {name!r} must be a path inside the folder.", table, index, "file")
        return None
    path = folder.file(name)
    if not path.is_file():
        folder.problem(f"missing file {name!r}.", table, index, "file")
        return None
    return path


def _check_questions(folder):
    entry = folder.config.get("questions")
    if entry is None:
        return
    path = _existing_file(folder, "questions", 0, entry["file"])
    if path is None:
        return
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        folder.problem(f"not JSON: {error}", file=entry["file"])
        return
    codes = {c["code"] for c in folder.entries("categories")}
    for code, definitions in (document.get("categories") or {}).items():
        if code not in codes:
            folder.problem(f"questions of {code!r}, which is not among the [[categories]].",
                           file=entry["file"])
        for data in definitions if isinstance(definitions, list) else [definitions]:
            try:
                questions.definition(data)
            except ValidationError as error:
                folder.problem(f"a question of {code!r}: {error}", file=entry["file"])


def _check_addresses(folder):
    entry = folder.config.get("addresses")
    if entry is not None:
        _check_columns(folder, "addresses", entry, ("address_field", "lon_field", "lat_field"))


def _check_columns(folder, table, entry, keys):
    """The CSV file exists and has the columns the entry names; return its rows or None."""
    path = _existing_file(folder, table, 0, entry["file"])
    if path is None:
        return None
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
        columns = rows[0].keys() if rows else []
    missing = [entry[k] for k in keys if entry.get(k) and entry[k] not in columns]
    if missing:
        folder.problem(f"{entry['file']} has no column {', '.join(map(repr, missing))}; its "
                       f"columns are: {', '.join(columns)}.", table, 0, "file")
        return None
    return rows


def _check_history(folder):
    entry = folder.config.get("history")
    if entry is None:
        return
    codes = {c["code"] for c in folder.entries("categories")}
    statuses = [entry.get("status", "closed"), *(entry.get("statuses") or {}).values()]
    for status in statuses:
        if status not in HISTORY_STATUSES:
            folder.problem(f"the status {status!r} is not one of "
                           f"{', '.join(HISTORY_STATUSES)}.", "history", key="status")
    if ("category" in entry) == ("category_field" in entry):
        folder.problem("give either category (one code for every row) or category_field "
                       "with its [history.categories] mapping.", "history")
    if entry.get("other_categories", "refuse") not in ("refuse", "skip"):
        folder.problem("other_categories must be refuse or skip.", "history",
                       key="other_categories")
    mapped = [entry["category"]] if "category" in entry else list(
        (entry.get("categories") or {}).values())
    for code in mapped:
        if code not in codes:
            folder.problem(f"history names the category {code!r}, which is not among the "
                           "[[categories]].", "history", key="category")
    keys = ("id_field", "lon_field", "lat_field", "created_field", "category_field",
            "status_field", "closed_field")
    rows = _check_columns(folder, "history", entry, keys)
    if rows is None or folder.problems:
        return
    bad = []
    for line, row in enumerate(rows, start=2):
        try:
            _history_record(entry, row)
        except ValueError as error:
            bad.append(Problem(entry["file"], line, str(error)))
    folder.problems += bad[:MOST_ROW_PROBLEMS]
    if len(bad) > MOST_ROW_PROBLEMS:
        folder.problem(f"... and {len(bad) - MOST_ROW_PROBLEMS} more rows like these.",
                       file=entry["file"])


def _as_list(value):
    return value if isinstance(value, list) else [value]


# Loading ----------------------------------------------------------------------------------


@dataclass
class CityLoad:
    """What loading a city folder changed, for the person who ran it."""

    folder: str
    settings_changed: bool = False
    names_changed: int = 0
    retired: list = field(default_factory=list)
    brought_back: list = field(default_factory=list)
    layers_loaded: list = field(default_factory=list)
    questions_loaded: bool = False
    targets_set: int = 0
    reroute: object = None
    addresses: object = None
    history_imported: int = 0
    history_outside: int = 0
    geocoded: int = 0
    dry_run: bool = False

    @property
    def changed(self):
        return bool(self.settings_changed or self.names_changed or self.retired
                    or self.brought_back or self.layers_loaded
                    or self.questions_loaded or self.targets_set or self.addresses
                    or self.history_imported or self.geocoded)

    def lines(self):
        lines = [f"city folder: {self.folder}",
                 "settings: " + ("changed (restart the app to use them)"
                                 if self.settings_changed else "unchanged"),
                 f"services and categories created or renamed: {self.names_changed}"]
        if self.retired:
            lines.append("retired (no longer offered; their reports keep them): "
                         + ", ".join(self.retired))
        if self.brought_back:
            lines.append("offered again: " + ", ".join(self.brought_back))
        lines += [f"boundaries {layer}: loaded as boundary version {version}"
                  for layer, version in self.layers_loaded] or ["boundaries: unchanged"]
        if self.reroute is not None:
            lines += self.reroute.lines()
        lines.append("questions: " + ("loaded" if self.questions_loaded else "unchanged"))
        lines.append(f"targets changed: {self.targets_set}")
        lines += self.addresses.lines() if self.addresses else ["addresses: unchanged"]
        lines.append(f"history reports imported: {self.history_imported} "
                     f"({self.history_outside} outside every area skipped)")
        lines.append(f"reports given an address: {self.geocoded}")
        if self.dry_run:
            lines.append("These changes would be loaded." if self.changed
                         else "Nothing would change.")
        else:
            lines.append("Changes loaded." if self.changed else "Nothing changed.")
        return lines


class _DryRun(Exception):
    """Raised inside the load's transaction to roll a dry run back."""


def load_city_folder(db, path, languages, dry_run=False, allow_private=False):
    """Check the folder, then load it in one transaction; return a CityLoad.

    With ``dry_run`` the load is made and rolled back, so the summary says what would change.
    """
    folder = read_city_folder(path, languages)
    load = CityLoad(str(folder.path), dry_run=dry_run)
    try:
        with db.atomic():
            _load(db, folder, load, allow_private)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except (AppError, GeoError) as error:
        raise CityFolderError([Problem(CITY_FILE, None, str(error))]) from None
    return load


def _load(db, folder, load, allow_private):
    load.settings_changed = city_rows.replace_settings(db, city_settings(folder.config))
    _load_names(db, folder, load, allow_private)
    _load_boundaries(db, folder, load)
    if load.layers_loaded:
        load.reroute = reroute_reports(db, build_router(db), apply=True)
    _load_questions(db, folder, load)
    _load_targets(db, folder, load)
    _load_addresses(db, folder, load)
    _load_history(db, folder, load)
    _, load.geocoded = places.geocode_reports(db)


def city_settings(config):
    """The app settings a city.toml gives ({SETTING: value})."""
    values = {setting: config[table][key] for (table, key), setting in SETTINGS.items()
              if key in config.get(table, {})}
    values["BABEL_DEFAULT_LOCALE"] = config["city"]["languages"][0]
    if "MAP_CENTRE" in values:  # the setting is text, as the environment gives it
        values["MAP_CENTRE"] = ",".join(repr(float(v)) for v in values["MAP_CENTRE"])
    return values


def _load_names(db, folder, load, allow_private):
    default = folder.languages[0]
    for kind, table in (("service", "services"), ("category", "categories")):
        for entry in folder.entries(table):
            names = entry["names"]
            load.names_changed += city_rows.upsert_named(db, kind, entry["code"],
                                                         names[default].strip())
            for language, name in names.items():
                if city_rows.translated_name(db, kind, entry["code"], language) != name.strip():
                    catalog.set_translated_name(db, kind, entry["code"], language, name.strip())
                    load.names_changed += 1
    for kind, table in (("service", "services"), ("category", "categories")):
        retired, back = city_rows.retire_others(
            db, kind, [entry["code"] for entry in folder.entries(table)])
        load.retired += [f"{kind} {code}" for code in retired]
        load.brought_back += [f"{kind} {code}" for code in back]
    for service in folder.entries("services"):
        if "target_days" in service:
            catalog.set_service_target(db, service["code"], service["target_days"])
        if "email" in service or "webhook" in service:
            delivery.set_service_delivery(db, service["code"], service.get("email"),
                                          service.get("webhook"), allow_private)


def _layer_groups(folder):
    """{(boundaries name, service): [category codes]}, in the order of the [[boundaries]]
    and then of the [[services]] (the order their versions are loaded in)."""
    groups = {}
    for category in folder.entries("categories"):
        for name in _as_list(category["areas"]):
            groups.setdefault((name, category["service"]), []).append(category["code"])
    boundaries = [b["name"] for b in folder.entries("boundaries")]
    services = [s["code"] for s in folder.entries("services")]
    return dict(sorted(groups.items(), key=lambda item: (
        boundaries.index(item[0][0]), services.index(item[0][1]))))


def layer_name(entry, service):
    """The layer of a boundary set for one service: its ``layer`` template, else NAME/SERVICE."""
    return entry.get("layer", "{name}/{service}").format(name=entry["name"], service=service)


def _load_boundaries(db, folder, load):
    entries = {b["name"]: b for b in folder.entries("boundaries")}
    for (name, service), categories in _layer_groups(folder).items():
        entry = entries[name]
        layer = layer_name(entry, service)
        mapping = {"categories": sorted(categories), "priority": entry.get("priority", 0),
                   "name_field": entry.get("name_field"), "crs": entry.get("crs")}
        print_ = _fingerprint(folder.file(entry["file"]), mapping)
        if city_rows.fingerprint(db, f"layer:{layer}") == print_:
            continue
        version, _ = load_boundary_file(
            db, folder.file(entry["file"]), categories, service=service,
            priority=mapping["priority"], crs=entry.get("crs"), layer=layer,
            name_field=entry.get("name_field"))
        city_rows.set_fingerprint(db, f"layer:{layer}", print_)
        load.layers_loaded.append((layer, version))


def _fingerprint(path, mapping=None):
    digest = hashlib.sha256(Path(path).read_bytes())
    digest.update(json.dumps(mapping, sort_keys=True).encode())
    return digest.hexdigest()


def _load_questions(db, folder, load):
    entry = folder.config.get("questions")
    if entry is None:
        return
    path = folder.file(entry["file"])
    print_ = _fingerprint(path)
    if city_rows.fingerprint(db, "questions") == print_:
        return
    questions.import_definitions(db, json.loads(path.read_text(encoding="utf-8")))
    city_rows.set_fingerprint(db, "questions", print_)
    load.questions_loaded = True


def _load_targets(db, folder, load):
    stored = {(row["category_code"], row["service_code"]): row
              for row in target_rows.all_targets(db)}
    for category in folder.entries("categories"):
        hours = (category.get("acknowledge_hours"), category.get("fix_hours"))
        if hours == (None, None):
            continue
        row = stored.get((category["code"], None))
        if row is not None and (row["acknowledge_hours"], row["fix_hours"]) == tuple(
                None if h is None else float(h) for h in hours):
            continue
        targets.set_target(db, category["code"], None, *hours)
        load.targets_set += 1


def _load_addresses(db, folder, load):
    entry = folder.config.get("addresses")
    if entry is None:
        return
    mapping = {k: entry.get(k) for k in ("address_field", "lon_field", "lat_field", "crs")}
    path = folder.file(entry["file"])
    print_ = _fingerprint(path, mapping)
    if city_rows.fingerprint(db, "addresses") == print_ and not load.layers_loaded:
        return
    load.addresses = address_load.load_address_file(db, path, **mapping)
    city_rows.set_fingerprint(db, "addresses", print_)


# History ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRecord:
    """A past report read from a history row (times naive when the file gives no offset)."""

    ident: str
    lon: float
    lat: float
    created: datetime
    category: str
    description: str
    status: str
    closed: datetime | None
    note: str


def _history_record(entry, row):
    """The HistoryRecord of a CSV row, or None for a row of a category left out
    (``other_categories = "skip"``); ValueError names what is wrong with the row."""
    ident = (row.get(entry["id_field"]) or "").strip()
    if not ident:
        raise ValueError(f"no {entry['id_field']}.")
    category = entry.get("category") or (entry.get("categories") or {}).get(
        row[entry["category_field"]])
    if category is None:
        if entry.get("other_categories") == "skip":
            return None
        raise ValueError(f"{ident}: no category for {row[entry['category_field']]!r}.")
    try:
        lon, lat = float(row[entry["lon_field"]]), float(row[entry["lat_field"]])
    except ValueError:
        raise ValueError(f"{ident}: the position is not two numbers.") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"{ident}: the position ({lon}, {lat}) is not a longitude/latitude.")
    closed_text = (row[entry["closed_field"]].strip() if entry.get("closed_field") else "")
    status = entry.get("status", "closed")
    if entry.get("status_field"):
        status = (entry.get("statuses") or {}).get(row[entry["status_field"]], status)
    return HistoryRecord(
        ident, lon, lat, _row_time(entry, ident, row[entry["created_field"]]), category,
        _row_text(entry, ident, row, "description", "{" + entry["id_field"] + "}"), status,
        _row_time(entry, ident, closed_text) if closed_text else None,
        _row_text(entry, ident, row, "status_note", "Imported from {actor} as history."))


def _row_time(entry, ident, text):
    try:
        return datetime.strptime(text.strip(), entry["created_format"])
    except ValueError:
        raise ValueError(f"{ident}: {text!r} does not match "
                         f"{entry['created_format']!r}.") from None


def _row_text(entry, ident, row, key, default):
    try:
        return entry.get(key, default).format_map({"actor": _actor(entry), **row})
    except (KeyError, ValueError, IndexError, AttributeError) as error:
        raise ValueError(f"{ident}: the {key} cannot be written ({error}).") from None


def _actor(entry):
    return entry.get("actor", entry["source"])


def _load_history(db, folder, load):
    entry = folder.config.get("history")
    if entry is None:
        return
    prefix = entry.get("id_prefix", entry["source"])
    done = report_rows.external_ids(db, entry["source"])
    zone = ZoneInfo(folder.config["city"]["time_zone"])
    with open(folder.file(entry["file"]), newline="", encoding="utf-8-sig") as handle:
        records = [_history_record(entry, row) for row in csv.DictReader(handle)]
    records = [r for r in records if r and f"{prefix}:{r.ident}" not in done]
    if not records:
        return
    router = build_router(db)
    found = router.route_many([r.lon for r in records], [r.lat for r in records],
                              np.array([r.category for r in records], dtype=object))
    ids = {"category": {c["code"]: c["id"] for c in catalog.all_categories(db)},
           "service": {s["code"]: s["id"] for s in catalog.all_services(db)}}
    rows = [_history_row(entry, record, (router.version, router.areas[area_id]), ids, zone)
            for record, area_id in zip(records, found.tolist(), strict=True) if area_id >= 0]
    load.history_outside = len(records) - len(rows)
    load.history_imported = len(rows)
    notes = [row.pop("_note") for row in rows]
    report_rows.insert_reports_bulk(db, rows)
    report_ids = city_rows.report_ids_by_external_id(db, entry["source"])
    city_rows.add_history_events(db, [
        event for row, note in zip(rows, notes, strict=True)
        for event in _history_events(_actor(entry), row, note, report_ids)])


def _history_row(entry, record, routed, ids, zone):
    """The reports row of a past report, with its status note (removed before insertion)."""
    version, area = routed
    created = _utc(record.created, zone)
    return {
        "category_id": ids["category"][record.category],
        "service_id": ids["service"][area.service], "area_id": area.id,
        "boundary_version_id": version, "lon": record.lon, "lat": record.lat,
        "description": record.description, "status": record.status,
        "source": entry["source"],
        "external_id": f"{entry.get('id_prefix', entry['source'])}:{record.ident}",
        "created_at": created,
        "updated_at": _utc(record.closed, zone) if record.closed else created,
        "_note": record.note,
    }


def _history_events(actor, row, note, report_ids):
    """Created, then (unless still new) the status reached, at the closing time."""
    report_id = report_ids[row["external_id"]]
    yield {"report_id": report_id, "kind": "created", "actor": actor, "at": row["created_at"],
           "from_status": None, "to_status": "new", "public_note": None}
    if row["status"] != "new":
        yield {"report_id": report_id, "kind": "status", "actor": actor,
               "at": row["updated_at"], "from_status": "new", "to_status": row["status"],
               "public_note": note}


def _utc(moment, zone):
    """A time read from a file (the city's local time unless it carries an offset), as
    stored: ISO 8601 in UTC."""
    return moment.replace(tzinfo=moment.tzinfo or zone).astimezone(UTC).isoformat()


# Export -----------------------------------------------------------------------------------


@dataclass
class CityExport:
    """What ``city export`` wrote, for the person who ran it."""

    files: list
    reports: int = 0
    left_out: int = 0

    def lines(self):
        lines = [f"Wrote {len(self.files)} file(s): {', '.join(self.files)}.",
                 f"Reports written as history: {self.reports} (hidden ones and reporters' "
                 "contact details are never exported)."]
        if self.left_out:
            lines.append(f"Reports left out because their category is retired: "
                         f"{self.left_out}.")
        return lines


def export_city_folder(db, path, settings):
    """Write the running city (settings, services, categories, areas in force, questions,
    targets, addresses, and its public reports as history) as a city folder at ``path``;
    return a CityExport.

    The settings a city folder stored win over ``settings`` (the app's), which fill in the
    others: an instance set up without a folder exports what it runs with.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    settings = {**{name: value for name, value in settings.items()
                   if setting_defaults().get(name, value) != value},
                **city_rows.settings(db)}
    layers = city_rows.layers_in_force(db)
    boundaries, groups = _export_boundaries(path, layers)
    written = [f"boundaries/{name}.geojson" for name in boundaries]
    document = _export_document(db, settings, boundaries, groups)
    if _export_questions(db, path, {c["code"] for c in document["categories"]}):
        document["questions"] = {"file": "questions.json"}
        written.append("questions.json")
    if _export_addresses(db, path):
        document["addresses"] = {"file": "addresses.csv", "address_field": "address",
                                 "lon_field": "lon", "lat_field": "lat"}
        written.append("addresses.csv")
    exported = CityExport([CITY_FILE, *written])
    codes = [c["code"] for c in document["categories"]]
    exported.reports, exported.left_out = _export_reports(db, path, codes)
    if exported.reports:
        document["history"] = _history_entry(codes)
        exported.files.append(HISTORY_FILE)
    (path / CITY_FILE).write_text(to_toml(document), encoding="utf-8")
    return exported


def _export_boundaries(path, layers):
    """Write one GeoJSON file per boundary set; return ({name: entry}, {category code:
    (service, [boundary names])})."""
    folder = path / "boundaries"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    boundaries, groups = {}, {}
    for layer, areas in layers.items():
        name = layer.split("/")[0]
        services = {a["service"] for a in areas}
        if len(services) != 1:
            raise ValidationError(
                "The layer %(layer)r spreads over several services (%(services)s); a city "
                "folder gives each category one service.", layer=layer,
                services=", ".join(sorted(services)))
        service = services.pop()
        for code in sorted({c for a in areas for c in a["categories"].split(",")}):
            handler, names = groups.setdefault(code, (service, []))
            if handler != service:
                raise ValidationError("The category %(code)r is handled by several services.",
                                      code=code)
            names.append(name)
        if name not in boundaries:
            boundaries[name] = {"name": name, "file": f"boundaries/{name}.geojson",
                                "name_field": "name", "priority": areas[0]["priority"]}
            _write_geojson(folder / f"{name}.geojson", areas)
    return boundaries, groups


def _write_geojson(target, areas):
    features = [{
        "type": "Feature",
        "properties": {**json.loads(a["properties"] or "{}"), "name": a["name"]},
        "geometry": shapely.geometry.mapping(shapely.from_wkb(a["geometry"])),
    } for a in areas]
    target.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                      encoding="utf-8")


def _export_document(db, settings, boundaries, groups):
    """city.toml as a document; a retired category (and a service handling only retired
    ones) is left out, so loading the export does not offer it again."""
    offered = {c["code"] for c in catalog.offered_categories(db)}
    groups = {code: group for code, group in groups.items() if code in offered}
    default = settings.get("BABEL_DEFAULT_LOCALE", setting_defaults()["BABEL_DEFAULT_LOCALE"])
    languages = [default] + sorted(city_rows.translation_locales(db) - {default})
    document = {table: {key: settings[name] for (t, key), name in SETTINGS.items()
                        if t == table and settings.get(name) not in (None, "")}
                for table in ("city", "map", "data")}
    document["city"]["languages"] = languages
    if "centre" in document["map"]:
        document["map"]["centre"] = [float(v) for v in document["map"]["centre"].split(",")]
    document["services"] = [
        _named(service, city_rows.translations_of(db, "service"), languages)
        | {k: service[v] for k, v in (("email", "email"), ("webhook", "webhook_url"))
           if service[v]}
        for service in catalog.all_services(db) if any(
            s == service["code"] for s, _ in groups.values())]
    hours = {row["category_code"]: row for row in target_rows.all_targets(db)
             if row["service_code"] is None}
    document["categories"] = []
    for category in catalog.all_categories(db):
        if category["code"] not in groups:
            continue
        service, names = groups[category["code"]]
        entry = _named(category, city_rows.translations_of(db, "category"), languages)
        entry |= {"service": service, "areas": names if len(names) > 1 else names[0]}
        target = hours.get(category["code"])
        entry |= {k: target[k] for k in ("acknowledge_hours", "fix_hours")
                  if target and target[k] is not None}
        document["categories"].append(entry)
    document["boundaries"] = list(boundaries.values())
    return document


def _named(row, translations, languages):
    names = translations.get(row["code"], {})
    return {"code": row["code"],
            "names": {lang: names.get(lang, row["name"]) for lang in languages}}


def _export_questions(db, path, codes):
    """Write the questions of the exported categories ``codes``; return whether any."""
    document = questions.export_definitions(db)
    document["categories"] = {code: found for code, found in document["categories"].items()
                              if code in codes}
    if not document["categories"]:
        return False
    (path / "questions.json").write_text(questions.to_json(document) + "\n", encoding="utf-8")
    return True


def _export_addresses(db, path):
    points = city_rows.all_address_points(db)
    if not points:
        return False
    with open(path / "addresses.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["address", "lon", "lat"])
        writer.writerows((p["address"], p["lon"], p["lat"]) for p in points)
    return True


HISTORY_FILE = "reports.csv"
HISTORY_COLUMNS = ("id", "category", "lon", "lat", "created_at", "status", "status_at",
                   "description")
#: Times in the exported history: UTC with the offset, to the second (as stored).
HISTORY_TIME = "%Y-%m-%dT%H:%M:%S%z"


def _history_entry(codes):
    """The [history] table that reads the exported reports back: every column mapped to
    itself, so a fresh instance gets the same categories, statuses and times."""
    return {"file": HISTORY_FILE, "source": "city-export", "id_field": "id",
            "lon_field": "lon", "lat_field": "lat", "created_field": "created_at",
            "created_format": HISTORY_TIME, "category_field": "category",
            "categories": {code: code for code in codes}, "status_field": "status",
            "statuses": {status: status for status in HISTORY_STATUSES},
            "closed_field": "status_at", "description": "{description}",
            "status_note": ""}


def _export_reports(db, path, codes):
    """Write the public reports of the offered ``codes`` as the history CSV; return
    (reports written, reports left out for their retired category)."""
    rows = city_rows.public_reports(db)
    kept = [row for row in rows if row["category"] in set(codes)]
    if kept:
        with open(path / HISTORY_FILE, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HISTORY_COLUMNS)
            writer.writerows((
                row["id"], row["category"], repr(row["lon"]), repr(row["lat"]),
                _export_time(row["created_at"]), row["status"],
                _export_time(row["status_at"]) if row["status"] != "new" else "",
                row["description"] or "") for row in kept)
    return len(kept), len(rows) - len(kept)


def _export_time(stored):
    """A stored time (ISO 8601; naive ones are UTC) in the history's format."""
    if not stored:
        return ""
    moment = datetime.fromisoformat(stored)
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC).strftime(HISTORY_TIME)


def to_toml(document):
    """A small TOML writer for the city document (tables of plain values and lists of
    tables); the standard library reads TOML but does not write it."""
    out = []
    for table, value in document.items():
        if isinstance(value, list):
            for entry in value:
                out += ["", f"[[{table}]]"] + [f"{_toml_key(k)} = {_toml_value(v)}"
                                               for k, v in entry.items()]
        elif value:
            out += ["", f"[{table}]"] + [f"{_toml_key(k)} = {_toml_value(v)}"
                                         for k, v in value.items()]
    return "\n".join(out).lstrip() + "\n"


def _toml_key(key):
    """A bare key when TOML allows it, else a quoted one (a code may hold a '.', which a
    bare key would read as a dotted key)."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    return json.dumps(str(value), ensure_ascii=False)
