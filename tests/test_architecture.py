"""The house rules a machine can check: import direction and documented settings/commands."""

import ast
import re
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


LOWER_LAYERS = ["submit.py", "photos.py", "maps.py", "areas.py", "errors.py", "storage",
                "demo"]


@pytest.mark.parametrize("name", LOWER_LAYERS)
def test_lower_layers_never_import_flask(name):
    paths = [ROOT / "app" / name] if name.endswith(".py") else (ROOT / "app" / name).rglob("*.py")
    for path in paths:
        assert "flask" not in {top_level(m) for m in imported_modules(path)}, path


def test_blueprints_never_import_each_other():
    blueprints = {p.parent.name for p in (ROOT / "app").glob("*/__init__.py")} - {
        "storage", "demo"}
    for blueprint in blueprints:
        for path in (ROOT / "app" / blueprint).rglob("*.py"):
            others = {f"app.{b}" for b in blueprints - {blueprint}}
            assert not others & set(imported_modules(path)), path


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
    app = create_app({"TESTING": True})
    for name, command in app.cli.commands.items():
        if name in {"backup", "restore"}:
            yield name
        elif name in {"db", "demo", "areas", "reports", "users", "apikeys", "photos", "privacy"}:
            for command_name in command.commands:
                yield f"{name} {command_name}"


@pytest.mark.parametrize("command", list(cli_commands()))
def test_every_command_is_documented(command):
    assert f"flask --app app {command}" in README
