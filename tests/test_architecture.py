"""The house rules a machine can check: import direction and documented settings/commands."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from app.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def imported_modules(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def top_level(name):
    return name.split(".")[0]


@pytest.mark.parametrize("path", sorted((ROOT / "geo").rglob("*.py")), ids=str)
def test_geo_is_a_pure_library(path):
    forbidden = {"app", "flask", "sqlite_utils", "folium", "werkzeug"}
    assert not forbidden & {top_level(m) for m in imported_modules(path)}


APP = ROOT / "app"
WEB = APP / "web"
#: Files that assemble the app and so may use Flask: the factory and the CLI.
ASSEMBLY = {APP / "__init__.py", APP / "cli.py"}
FLASK_LIBRARIES = {"flask", "flask_babel", "flask_login", "flask_wtf", "flask_limiter",
                   "folium"}
#: Modules outside app/web that still import Flask or the web layer, and why.
WEB_EXCEPTIONS = {
    "app/statuses.py": "lazy_gettext: status labels translate where they are shown",
}


def modules_outside_web():
    return [p for p in APP.rglob("*.py")
            if WEB not in p.parents and p not in ASSEMBLY
            and str(p.relative_to(ROOT)) not in WEB_EXCEPTIONS]


def uses_the_web(module):
    top = top_level(module)
    return (top in FLASK_LIBRARIES or module.startswith("app.web")
            or (top == "werkzeug" and module != "werkzeug.security"))


@pytest.mark.parametrize("path", modules_outside_web(), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_web_layer_knows_flask(path):
    """Domain, messaging, storage and vocabulary take values, not requests; werkzeug's
    password hashing is a plain library."""
    assert not [m for m in imported_modules(path) if uses_the_web(m)]


@pytest.mark.parametrize("name", sorted(WEB_EXCEPTIONS))
def test_every_web_exception_is_still_needed(name):
    assert any(uses_the_web(m) for m in imported_modules(ROOT / name)), name


def blueprint_modules():
    app = create_app({"TESTING": True})
    return {blueprint.import_name for blueprint in app.blueprints.values()}


def test_blueprints_never_import_each_other():
    """Shared code moves down a layer: a blueprint's module imports no other blueprint's."""
    blueprints = blueprint_modules()
    assert len(blueprints) >= 4
    for module in blueprints:
        path = ROOT / (module.replace(".", "/") + ".py")
        assert not (blueprints - {module}) & set(imported_modules(path)), path


def test_storage_and_geo_never_reach_up():
    for path in [*(APP / "storage").rglob("*.py"), *(ROOT / "geo").rglob("*.py")]:
        above = {m for m in imported_modules(path) if top_level(m) == "app"
                 and not m.startswith(("app.storage", "app.errors", "app.ids", "app.statuses"))}
        assert not above, path


def test_importing_storage_loads_no_other_layer():
    """A script or worker that only needs the database pays for no Flask, folium or
    geopandas (importing it took 2.3 s when it did)."""
    code = "import sys, app.storage; print(*sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split()
    assert {m for m in loaded if top_level(m) == "app"} == {"app", "app.storage"}
    assert not {top_level(m) for m in loaded} & (FLASK_LIBRARIES | {"geopandas"})


def test_sql_lives_only_in_the_storage_layer():
    sql = re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b")
    allowed = {ROOT / "app" / "storage", ROOT / "migrations"}
    for path in (ROOT / "app").rglob("*.py"):
        if not any(parent in allowed for parent in path.parents):
            assert not sql.search(path.read_text()), path


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting):
    assert f"`{setting.name}`" in README


def cli_commands():
    """Every command and subcommand the app registers, read from the app itself."""
    app = create_app({"TESTING": True})
    for name, command in app.cli.commands.items():
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            yield name
        else:
            yield from (f"{name} {sub}" for sub in subcommands)


@pytest.mark.parametrize("command", list(cli_commands()))
def test_every_command_is_documented(command):
    assert f"flask --app app {command}" in README
