"""Reading boundary files: formats, CRS handling, repairs and refusals."""

import json
import zipfile

import geopandas
import pytest
import shapely

from geo.boundaries import read_boundaries
from geo.errors import BoundaryFileError

SQUARE = shapely.box(-118.3, 34.0, -118.2, 34.1)
BOWTIE = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])


def write_geojson(path, geometries, crs=None):
    features = [
        {"type": "Feature", "properties": {"name": f"F{i}"},
         "geometry": None if g is None else shapely.geometry.mapping(g)}
        for i, g in enumerate(geometries)
    ]
    collection = {"type": "FeatureCollection", "features": features}
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(collection))
    return path


def test_reads_plain_geojson(tmp_path):
    layer = read_boundaries(write_geojson(tmp_path / "a.geojson", [SQUARE]))
    assert len(layer.features) == 1
    assert layer.features[0].size_m2 == pytest.approx(1.025e8, rel=0.02)
    assert layer.report.bounds == pytest.approx((-118.3, 34.0, -118.2, 34.1))


def test_projected_coordinates_without_crs_are_refused(tmp_path):
    feet = shapely.box(6_480_000, 1_840_000, 6_490_000, 1_850_000)
    path = write_geojson(tmp_path / "feet.geojson", [feet])
    expected = "not plausible longitudes/latitudes. Pass the file's CRS with --crs"
    with pytest.raises(BoundaryFileError, match=expected):
        read_boundaries(path)


def test_crs_option_reprojects(tmp_path):
    feet = shapely.box(6_480_000, 1_840_000, 6_490_000, 1_850_000)
    layer = read_boundaries(write_geojson(tmp_path / "feet.geojson", [feet]), crs="EPSG:2229")
    assert layer.report.reprojected
    minx, miny, maxx, maxy = layer.report.bounds
    assert -119 < minx < maxx < -118 and 33.5 < miny < maxy < 34.5


def test_declared_crs_is_reprojected_and_conflicting_option_refused(tmp_path):
    frame = geopandas.GeoDataFrame({"name": ["x"]}, geometry=[SQUARE], crs="EPSG:4326")
    path = tmp_path / "mercator.gpkg"
    frame.to_crs("EPSG:3857").to_file(path)
    layer = read_boundaries(path)
    assert layer.report.reprojected
    assert layer.report.bounds == pytest.approx((-118.3, 34.0, -118.2, 34.1), abs=1e-6)
    with pytest.raises(BoundaryFileError, match="declares EPSG:3857 but --crs says"):
        read_boundaries(path, crs="EPSG:2229")


def test_zipped_shapefile(tmp_path):
    frame = geopandas.GeoDataFrame({"name": ["x"]}, geometry=[SQUARE], crs="EPSG:4326")
    frame.to_file(tmp_path / "areas.shp")
    archive = tmp_path / "areas.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for part in tmp_path.glob("areas.*"):
            if part.suffix != ".zip":
                handle.write(part, part.name)
    assert read_boundaries(archive).features[0].properties["name"] == "x"


def test_invalid_geometry_is_repaired_and_empty_dropped(tmp_path):
    layer = read_boundaries(write_geojson(tmp_path / "b.geojson", [BOWTIE, None, SQUARE]))
    assert (layer.report.features_read, layer.report.empty_dropped, layer.report.repaired) == (
        3, 1, 1)
    assert all(f.geometry.is_valid for f in layer.features)
    assert "invalid geometries repaired: 1" in layer.report.lines()


def test_non_polygons_are_refused(tmp_path):
    path = write_geojson(tmp_path / "c.geojson", [SQUARE, shapely.LineString([(0, 0), (1, 1)])])
    with pytest.raises(BoundaryFileError, match="feature 1 is a LineString"):
        read_boundaries(path)


def test_overlaps_are_reported(tmp_path):
    other = shapely.box(-118.25, 34.0, -118.15, 34.1)
    layer = read_boundaries(write_geojson(tmp_path / "d.geojson", [SQUARE, other, BOWTIE]))
    assert [(i, j) for i, j, _ in layer.report.overlaps] == [(0, 1)]
    assert layer.report.overlap_area_m2 == pytest.approx(5.12e7, rel=0.02)


@pytest.mark.parametrize("content", ["", "not json", '{"type": "Feature"}'])
def test_unreadable_files_are_refused(tmp_path, content):
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    with pytest.raises(BoundaryFileError):
        read_boundaries(path)


def test_missing_file(tmp_path):
    with pytest.raises(BoundaryFileError, match="does not exist"):
        read_boundaries(tmp_path / "nope.geojson")
