"""The photo pipeline on real encoded images of every accepted type."""

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from app.errors import PhotoError
from app.reporting.photos import PhotoStore, content_name, photo_position, prepare_photo, sniff_type
from tests.factories import gps_exif, jpeg_bytes

LIMIT = 40_000_000


def encoded(image, kind, **options):
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def test_gps_is_read_and_everything_is_stripped():
    data = jpeg_bytes(exif=gps_exif(-118.2437, 34.0522), comment=b"secret comment",
                      icc_profile=b"\0" * 128)
    photo = prepare_photo(data, LIMIT)
    lon, lat = photo.gps
    assert lon == pytest.approx(-118.2437, abs=1e-5)
    assert lat == pytest.approx(34.0522, abs=1e-5)
    for output in (photo.display, photo.thumb):
        image = Image.open(io.BytesIO(output))
        assert not image.getexif()
        assert "icc_profile" not in image.info and "comment" not in image.info
        assert b"secret comment" not in output and b"TestCam" not in output


def test_orientation_is_applied():
    data = jpeg_bytes(size=(600, 200), exif=gps_exif(1, 1, orientation=6))
    photo = prepare_photo(data, LIMIT)
    assert (photo.width, photo.height) == (200, 600)


def test_phone_sized_jpeg_decodes_at_reduced_scale():
    photo = prepare_photo(jpeg_bytes(size=(4032, 3024)), LIMIT)
    assert (photo.width, photo.height) == (2016, 1512)
    assert max(Image.open(io.BytesIO(photo.thumb)).size) <= 400


def test_large_png_is_resized_within_limits():
    photo = prepare_photo(encoded(Image.new("RGB", (5000, 1000), "blue"), "PNG"), LIMIT)
    assert (photo.width, photo.height) == (2048, 410)


def test_transparent_png_is_flattened_on_white():
    photo = prepare_photo(encoded(Image.new("RGBA", (50, 50), (255, 0, 0, 0)), "PNG"), LIMIT)
    assert Image.open(io.BytesIO(photo.display)).getpixel((25, 25)) == pytest.approx(
        (255, 255, 255), abs=3)


def test_webp_and_heic_are_accepted():
    for kind in ("WEBP", "HEIF"):
        data = encoded(Image.new("RGB", (300, 200), "green"), kind)
        assert sniff_type(data) == kind
        assert prepare_photo(data, LIMIT).width == 300


def test_heic_gps_is_read():
    exif = gps_exif(2.35, 48.85).tobytes()
    data = encoded(Image.new("RGB", (64, 64), "green"), "HEIF", exif=exif)
    assert photo_position(data, LIMIT) == pytest.approx((2.35, 48.85), abs=1e-4)


def test_names_are_content_hashes():
    photo = prepare_photo(jpeg_bytes(), LIMIT)
    assert photo.display_name == content_name(photo.display)
    assert len(photo.display_name) == len("0" * 64 + ".jpg")


@pytest.mark.parametrize(("data", "message"), [
    (b"", "not an image we accept"),
    (b"GIF89a" + b"\0" * 100, "not an image we accept"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "not an image we accept"),
    (b"\xff\xd8\xff" + b"<html>polyglot</html>" * 20, "web page code"),
    (b"\xff\xd8\xff" + b"\0" * 400, "damaged"),
    (jpeg_bytes((1000, 800))[:3000], "damaged or incomplete"),
])
def test_bad_files_are_refused(data, message):
    with pytest.raises(PhotoError, match=message):
        prepare_photo(data, LIMIT)


def test_pixel_limit_is_checked_before_decoding():
    data = encoded(Image.new("1", (5000, 5000)), "PNG")
    with pytest.raises(PhotoError, match="too many pixels"):
        prepare_photo(data, 20_000_000)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_crash(data):
    try:
        prepare_photo(data, LIMIT)
    except PhotoError:
        pass


def test_store_writes_atomically_and_once(tmp_path):
    store = PhotoStore(tmp_path)
    name = content_name(b"abc")
    assert store.write(name, b"abc") is True
    assert store.write(name, b"abc") is False
    assert store.path(name).read_bytes() == b"abc"
    assert store.names() == {name}
    assert not list(tmp_path.rglob("*.tmp"))
