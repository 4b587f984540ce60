"""The gazetteer: loading address files (each format, CRS, bad rows, broken files), the places
API (search as you type, reverse) and its accuracy on the demo's real Los Angeles records."""

import csv
import json
import random

import pytest
from pyproj import Transformer

from app.demo import REQUESTS
from app.storage import distance_m
from app.storage import places as place_rows
from app.web.db import get_db

OPEN_ADDRESSES_HEADER = "LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH"
#: Address points inside the test squares (A: lon 0..1, B: lon 1..2, lat 0..1).
POINTS = [
    (0.5000, 0.5000, "977", "N HILL ST", "", "LOS ANGELES", "90012"),
    (0.5003, 0.5000, "979", "N HILL ST", "", "LOS ANGELES", "90012"),
    (0.5100, 0.5000, "977", "S HILL ST", "", "LOS ANGELES", "90015"),
    (0.2000, 0.2000, "12", "Boulevard Saint-Michel", "", "Paris", "75005"),
    (0.2010, 0.2000, "3", "Rue de l'Église", "", "Paris", "75015"),
    (0.3000, 0.3000, "100", "Avenue des Champs-Élysées", "", "Paris", "75008"),
    (1.5000, 0.5000, "200", "MAIN ST", "", "LOS ANGELES", "90012"),
    (0.4000, 0.4000, "200", "MAIN ST", "", "SANTA MONICA", "90401"),
    (0.6000, 0.6000, "5", "W SUNSET BLVD", "", "LOS ANGELES", "90026"),
    (0.6100, 0.6000, "7", "WILSHIRE AVE", "", "LOS ANGELES", "90010"),
]


def open_addresses_csv(path, rows=POINTS, extra_lines=()):
    lines = [OPEN_ADDRESSES_HEADER]
    for number, (lon, lat, house, street, unit, city, postcode) in enumerate(rows):
        lines.append(f'{lon},{lat},{house},"{street}",{unit},{city},,CA,{postcode},{number},h')
    path.write_text("\n".join([*lines, *extra_lines]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def loaded(app, runner, tmp_path):
    result = runner.invoke(args=["addresses", "load", str(open_addresses_csv(
        tmp_path / "addresses.csv"))])
    assert result.exit_code == 0, result.output
    return app


def search(client, q, **args):
    response = client.get("/api/places", query_string={"q": q, **args})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/geo+json"
    return response.get_json()


def addresses(collection):
    return [f["properties"]["address"] for f in collection["features"]]


def stored_points(app):
    with app.app_context():
        db = get_db()
        return sorted(tuple(r) for r in db.execute("SELECT address, lon, lat FROM addresses"))


# The API ---------------------------------------------------------------------------------


def test_search_answers_an_rfc7946_collection_best_first(loaded, client):
    found = search(client, "977 N Hill St")
    first = found["features"][0]
    assert found["type"] == "FeatureCollection"
    assert first["type"] == "Feature" and first["geometry"] == {
        "type": "Point", "coordinates": [0.5, 0.5]}
    assert first["properties"]["address"] == "977 N Hill St, Los Angeles 90012"
    scores = [f["properties"]["score"] for f in found["features"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)


@pytest.mark.parametrize("typed", [
    "977 N Hill St", "977 n hill st", "977 North Hill Street", "977 N. HILL ST.",
    "Hill St N 977", "977 north hill", "977 N Hil", "977, n hill st, 90012",
])
def test_case_punctuation_order_and_abbreviations_do_not_matter(loaded, client, typed):
    assert addresses(search(client, typed))[0] == "977 N Hill St, Los Angeles 90012"


@pytest.mark.parametrize(("typed", "expected"), [
    ("12 bd saint michel", "12 Boulevard Saint-Michel, Paris 75005"),
    ("3 r de l eglise", "3 Rue de l'Église, Paris 75015"),
    ("3 RUE DE L'ÉGLISE", "3 Rue de l'Église, Paris 75015"),
    ("100 av des champs elysees", "100 Avenue des Champs-Élysées, Paris 75008"),
    ("5 w sunset boulevard", "5 W Sunset Blvd, Los Angeles 90026"),
    ("7 wilshire avenue", "7 Wilshire Ave, Los Angeles 90010"),
])
def test_french_and_english_street_words(loaded, client, typed, expected):
    assert addresses(search(client, typed))[0] == expected


def test_the_house_number_ranks_the_exact_address_first(loaded, client):
    found = addresses(search(client, "979 hill"))
    assert found[0] == "979 N Hill St, Los Angeles 90012"
    assert "977 N Hill St, Los Angeles 90012" not in found[:1]


def test_a_street_name_alone_finds_the_street(loaded, client):
    found = addresses(search(client, "hill st"))
    assert sorted(found) == ["N Hill St, Los Angeles 90012", "S Hill St, Los Angeles 90015"]


def test_near_breaks_ties_by_distance(loaded, client):
    east = addresses(search(client, "200 main st", near="1.4,0.5"))
    west = addresses(search(client, "200 main st", near="0.41,0.41"))
    assert east[0] == "200 Main St, Los Angeles 90012"
    assert west[0] == "200 Main St, Santa Monica 90401"


def test_limit_caps_the_answer(loaded, client):
    assert len(search(client, "hill", limit=1)["features"]) == 1


def test_nothing_found_is_an_empty_collection(loaded, client):
    assert search(client, "zzzz nowhere")["features"] == []


@pytest.mark.parametrize(("args", "words"), [
    ({}, "Type a street"),
    ({"q": "   "}, "Type a street"),
    ({"q": "?!…"}, "at least one letter"),
    ({"q": "x" * 201}, "201 characters"),
    ({"q": "hill", "limit": "0"}, "limit must be"),
    ({"q": "hill", "limit": "ten"}, "limit must be"),
    ({"q": "hill", "limit": "51"}, "limit must be"),
    ({"q": "hill", "near": "1.5"}, "near must be"),
    ({"q": "hill", "near": "abc,1"}, "longitude"),
    ({"q": "hill", "near": "1,95"}, "latitude"),
])
def test_a_bad_query_is_a_400_with_a_message(loaded, client, args, words):
    response = client.get("/api/places", query_string=args)
    assert response.status_code == 400
    assert words in response.get_json()["error"]["message"]


def test_a_bad_query_is_explained_in_french(loaded, client):
    response = client.get("/api/places", headers={"Accept-Language": "fr"})
    assert "Tapez une rue" in response.get_json()["error"]["message"]


def test_reverse_answers_the_nearest_point_within_150_m(loaded, client):
    # 0.0009 degrees of latitude is about 100 m
    response = client.get("/api/places/reverse", query_string={"lon": 0.5, "lat": 0.5009})
    feature, = response.get_json()["features"]
    assert feature["properties"]["address"] == "977 N Hill St, Los Angeles 90012"
    assert feature["properties"]["distance_m"] == pytest.approx(
        distance_m(0.5, 0.5009, 0.5, 0.5), abs=0.1)
    assert feature["geometry"]["coordinates"] == [0.5, 0.5]


def test_reverse_picks_the_nearer_of_two_points(loaded, client):
    response = client.get("/api/places/reverse", query_string={"lon": 0.50021, "lat": 0.5})
    assert addresses(response.get_json()) == ["979 N Hill St, Los Angeles 90012"]


def test_reverse_beyond_150_m_is_empty(loaded, client):
    response = client.get("/api/places/reverse", query_string={"lon": 0.5, "lat": 0.5014})
    assert response.status_code == 200 and response.get_json() == {
        "type": "FeatureCollection", "features": []}


@pytest.mark.parametrize("args", [{}, {"lon": "x", "lat": "1"}, {"lon": "1", "lat": "91"}])
def test_reverse_with_bad_coordinates_is_a_400(loaded, client, args):
    response = client.get("/api/places/reverse", query_string=args)
    assert response.status_code == 400 and response.get_json()["error"]["message"]


# Loading ---------------------------------------------------------------------------------


def test_open_addresses_csv_loads_with_a_summary(app, runner, tmp_path):
    path = open_addresses_csv(tmp_path / "oa.csv", extra_lines=[
        ",,1,NO POSITION ST,,,,CA,,98,h",           # no position
        "abc,0.5,2,BAD NUMBER ST,,,,CA,,99,h",      # unreadable position
        "5.0,5.0,3,FAR AWAY ST,,,,CA,,100,h",       # outside every service area
        "0.7,0.7,,,,,,CA,,101,h",                   # no street
        "0.5,0.5,977,N HILL ST,,LOS ANGELES,,CA,90012,102,h",  # the same address again
    ])
    result = runner.invoke(args=["addresses", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "rows read: 15" in result.output
    assert "rows without a position (skipped): 2" in result.output
    assert "rows without an address (skipped): 1" in result.output
    assert "rows outside every service area (skipped): 1" in result.output
    assert "duplicate addresses (kept once): 1" in result.output
    assert f"address points loaded: {len(POINTS)}" in result.output
    assert len(stored_points(app)) == len(POINTS)


def test_a_csv_with_named_fields_loads(app, runner, tmp_path):
    path = tmp_path / "city.csv"
    path.write_text('full_address,x_coord,y_coord\n"977 N HILL ST, 90012",0.5,0.5\n'
                    '"12 rue de Rivoli, Paris",0.2,0.2\n', encoding="utf-8")
    result = runner.invoke(args=["addresses", "load", str(path), "--address-field",
                                 "full_address", "--lon-field", "x_coord", "--lat-field",
                                 "y_coord"])
    assert result.exit_code == 0, result.output
    assert stored_points(app) == [("12 rue de Rivoli, Paris", 0.2, 0.2),
                                  ("977 N Hill St, 90012", 0.5, 0.5)]


def geojson_points(rows, crs=None):
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": properties,
         "geometry": None if position is None else {"type": "Point", "coordinates": position}}
        for position, properties in rows]}
    if crs:
        document["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(document)


def test_geojson_points_load_with_bad_features_counted(app, runner, tmp_path):
    path = tmp_path / "points.geojson"
    path.write_text(geojson_points([
        ([0.5, 0.5], {"number": "977", "street": "N HILL ST", "postcode": "90012"}),
        ([0.2, 0.2], {"number": "12", "street": "Rue de Rivoli", "city": "Paris"}),
        (None, {"number": "1", "street": "Nowhere St"}),
        ([0.3], {"number": "2", "street": "Short St"}),
    ]), encoding="utf-8")
    result = runner.invoke(args=["addresses", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "rows without a position (skipped): 2" in result.output
    assert stored_points(app) == [("12 Rue de Rivoli, Paris", 0.2, 0.2),
                                  ("977 N Hill St, 90012", 0.5, 0.5)]


def test_geojson_with_an_address_property_and_a_declared_crs(app, runner, tmp_path):
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    x, y = to_mercator.transform(0.5, 0.5)
    path = tmp_path / "mercator.geojson"
    path.write_text(geojson_points([([x, y], {"address": "977 N Hill St"})],
                                   crs="urn:ogc:def:crs:EPSG::3857"), encoding="utf-8")
    result = runner.invoke(args=["addresses", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "reprojected to EPSG:4326" in result.output
    (address, lon, lat), = stored_points(app)
    assert address == "977 N Hill St" and distance_m(lon, lat, 0.5, 0.5) < 0.01


def test_a_projected_csv_loads_with_crs(app, runner, tmp_path):
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    rows = [(*to_mercator.transform(lon, lat), *rest) for lon, lat, *rest in POINTS[:3]]
    path = open_addresses_csv(tmp_path / "projected.csv", rows=rows)
    refused = runner.invoke(args=["addresses", "load", str(path)])
    assert refused.exit_code != 0 and "--crs" in refused.output
    result = runner.invoke(args=["addresses", "load", str(path), "--crs", "EPSG:3857"])
    assert result.exit_code == 0, result.output
    for (_, lon, lat), original in zip(stored_points(app), sorted(POINTS[:3], key=lambda p: (
            p[2] + " " + p[3])), strict=True):
        assert distance_m(lon, lat, original[0], original[1]) < 0.01


def broken_files(tmp_path):
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    x, y = to_mercator.transform(0.5, 0.5)
    files = {
        "not json": ("broken.geojson", '{"type": "FeatureCollection", "features": [', None),
        "not a collection": ("list.geojson", "[1, 2, 3]", None),
        "not utf-8": ("latin.csv", (OPEN_ADDRESSES_HEADER + "\n0.5,0.5,1,RUE DE L'ÉGLISE,,,,,,,"
                                    "\n").encode("latin-1"), None),
        "no coordinate column": ("nocoords.csv", "address,zip\n1 Main St,90012\n", None),
        "no address field": ("noaddress.csv", "lon,lat,colour\n0.5,0.5,red\n", None),
        "unknown address field": ("oa.csv", OPEN_ADDRESSES_HEADER + "\n0.5,0.5,1,A ST,,,,,,,\n",
                                  ["--address-field", "adresse"]),
        "projected, no crs": ("proj.csv", f"lon,lat,address\n{x},{y},1 Main St\n", None),
        "crs conflict": ("conflict.geojson", geojson_points([([0.5, 0.5], {"address": "1 A St"})],
                                                           crs="EPSG:4326"),
                         ["--crs", "EPSG:3857"]),
        "unknown crs": ("oa2.csv", OPEN_ADDRESSES_HEADER + "\n0.5,0.5,1,A ST,,,,,,,\n",
                        ["--crs", "EPSG:99999999"]),
        "nothing inside": ("far.csv", OPEN_ADDRESSES_HEADER + "\n5,5,1,FAR ST,,,,,,,\n", None),
        "empty": ("empty.csv", "", None),
    }
    for label, (name, content, options) in files.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        yield label, path, options or []


def test_a_broken_file_changes_nothing_and_says_why(loaded, runner, tmp_path):
    before = stored_points(loaded)
    for label, path, options in broken_files(tmp_path):
        result = runner.invoke(args=["addresses", "load", str(path), *options])
        assert result.exit_code != 0, label
        assert "Error:" in result.output and len(result.output.strip()) > 20, label
        assert stored_points(loaded) == before, label
    with loaded.app_context():
        assert place_rows.last_source(get_db())["source"] == "addresses.csv"


def test_a_new_file_replaces_the_previous_set(loaded, runner, tmp_path):
    path = open_addresses_csv(tmp_path / "second.csv", rows=POINTS[:1])
    assert runner.invoke(args=["addresses", "load", str(path)]).exit_code == 0
    assert stored_points(loaded) == [("977 N Hill St, Los Angeles 90012", 0.5, 0.5)]
    with loaded.test_client() as client:
        assert addresses(search(client, "main st")) == []


# Real Los Angeles records (the demo's own addresses) -------------------------------------


def demo_records():
    with open(REQUESTS, newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["latitude"] and r["address"]]
    return rows


def varied(address, number):
    """The record's address as a resident might type it: case, abbreviations, word order."""
    street, _, postcode = address.partition(",")
    words = street.split()
    spelled = {"N": "North", "S": "South", "E": "East", "W": "West", "ST": "Street",
               "AVE": "Avenue", "BLVD": "Boulevard", "DR": "Drive", "PL": "Place"}
    kind = number % 4
    if kind == 0:
        return address.lower()
    if kind == 1:
        return " ".join(spelled.get(w, w) for w in words).title()
    if kind == 2 and words[0].isdigit():
        return " ".join(words[1:] + words[:1]) + "," + postcode
    return street.replace(" ST", " St.").replace(" AVE", " Av")


def test_real_addresses_are_found_within_30_m(demo_server):
    rows = random.Random(15).sample(demo_records(), 300)
    client = demo_server.app.test_client()
    hits = 0
    for number, row in enumerate(rows):
        features = search(client, varied(row["address"], number), limit=1)["features"]
        if features:
            lon, lat = features[0]["geometry"]["coordinates"]
            hits += distance_m(lon, lat, float(row["longitude"]), float(row["latitude"])) <= 30
    assert hits / len(rows) >= 0.95, hits


def test_reverse_geocoding_real_records_returns_their_own_address(demo_server):
    rows = random.Random(16).sample(demo_records(), 300)
    client = demo_server.app.test_client()
    same = 0
    for row in rows:
        answer = client.get("/api/places/reverse", query_string={
            "lon": row["longitude"], "lat": row["latitude"]}).get_json()
        found = addresses(answer)
        same += bool(found) and found[0].casefold() == row["address"].casefold()
    assert same / len(rows) >= 0.90, same


def test_a_number_the_gazetteer_lacks_is_placed_between_its_neighbours(loaded, client):
    # 977 is at lon 0.5000 and 979 at 0.5003 on N Hill St: 978 is not a point, but between
    found = search(client, "978 n hill st")["features"]
    placed = next(f for f in found if f["properties"]["address"].startswith("978 "))
    assert placed["properties"]["address"] == "978 N Hill St, Los Angeles 90012"
    lon, lat = placed["geometry"]["coordinates"]
    assert distance_m(lon, lat, 0.50015, 0.5) < 1
    exact = search(client, "977 n hill st")["features"]
    assert exact[0]["properties"]["address"] == "977 N Hill St, Los Angeles 90012"
    assert exact[0]["properties"]["score"] > placed["properties"]["score"]
    beyond = next(f for f in search(client, "1001 n hill st")["features"]
                  if f["properties"]["address"].startswith("1001 "))
    assert beyond["geometry"]["coordinates"] == [0.5003, 0.5]  # at the nearest number, 979
