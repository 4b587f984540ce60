"""Two app servers over one database (the same SQLite file, or the same PostgreSQL database
on the PostgreSQL run) share nothing but the database: what one changes, the other serves
at once, without a restart."""

import shapely

from app import create_app
from app.web.db import get_router
from geo.routing import OutsideServiceArea
from tests.test_cli import write_layer
from tests.test_report_flow import post


def second_server(app):
    """Another app on the same database and photos, as a second machine would be."""
    shared = ("DATABASE", "DATABASE_URL", "PHOTO_STORE", "RATE_LIMIT_DATABASE")
    return create_app({"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                       "RATE_LIMITS_ON": False,
                       **{name: app.config[name] for name in shared if name in app.config}})


def routed_service(app, lon, lat, category):
    """The service the app's own (cached) router sends a report to, or None."""
    with app.app_context():
        try:
            return get_router().route(lon, lat, category).service
        except OutsideServiceArea:
            return None


def test_a_boundary_loaded_on_one_server_routes_on_the_other(app, runner, tmp_path):
    other = second_server(app)
    assert routed_service(other, 10.5, 10.5, "bins") is None  # cached: nothing covers it
    layer = write_layer(tmp_path / "wards.geojson", [
        ({"name": "North"}, shapely.box(10, 10, 11, 11))])
    result = runner.invoke(args=["areas", "load", str(layer), "--service", "north-yard",
                                 "--categories", "bins"])
    assert result.exit_code == 0, result.output
    assert routed_service(other, 10.5, 10.5, "bins") == "north-yard"


def test_a_report_sent_to_one_server_is_public_on_the_other(app, client):
    other = second_server(app).test_client()
    sent = post(client, description="Deep hole by the school gate")
    assert sent.status_code == 303
    page = other.get(sent.headers["Location"])
    assert page.status_code == 200
    assert "Deep hole by the school gate" in page.get_data(as_text=True)
