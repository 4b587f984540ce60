"""A real full disk: the photo folder on a 1 MB tmpfs. The resident gets an error and
nothing is stored. Needs root to mount; skipped, saying so, elsewhere."""

import io
import os
import subprocess

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.reporting.photos import PhotoStore
from app.storage import row_counts
from app.web.db import get_db
from tests.factories import make_app


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "photos"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def noisy_jpeg(seed):
    image = Image.effect_noise((1400, 1000), 60 + seed).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def test_disk_full_during_photo_write_stores_nothing(small_disk, tmp_path, monkeypatch):
    written = []
    real_write = PhotoStore.write

    def counting_write(self, name, data):
        result = real_write(self, name, data)
        written.append(name)
        return result

    monkeypatch.setattr(PhotoStore, "write", counting_write)
    room_for_one_photo_not_two = 950 * 1024
    (small_disk / "filler").write_bytes(b"\0" * (1024 * 1024 - room_for_one_photo_not_two))
    app = make_app(tmp_path, PHOTO_STORE=str(small_disk))
    with app.app_context():
        before = row_counts(get_db())
    files_before = sorted(p.name for p in small_disk.rglob("*") if p.is_file())
    photos = [FileStorage(io.BytesIO(noisy_jpeg(n)), f"{n}.jpg", content_type="image/jpeg")
              for n in range(3)]
    boundary, body = encode_multipart({"lon": "0.5", "lat": "0.5", "category": "pothole",
                                       "description": "Photos too big", "photos": photos})
    response = app.test_client().post(
        "/report/new", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 503
    assert "Nothing was saved" in response.get_data(as_text=True)
    with app.app_context():
        assert row_counts(get_db()) == before
    assert sorted(p.name for p in small_disk.rglob("*") if p.is_file()) == files_before
    assert len(written) >= 2  # the first photo was written, then removed again
