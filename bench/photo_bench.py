"""Photo pipeline benchmark: our pipeline against a plain Pillow decode + resize + save.

Run: .venv/bin/python bench/photo_bench.py [--runs N]

Prints, for a 12-megapixel phone JPEG and a HEIC of the same picture, the median time of
``app.reporting.photos.prepare_photo`` and of the plain way measured in the same run, the speed-up,
and the peak extra memory of each (peak RSS of a fresh process, minus its peak before the
work).
"""

import argparse
import io
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import high_water_kb  # noqa: E402

from app.reporting.photos import prepare_photo  # noqa: E402
from tests.factories import gps_exif  # noqa: E402

SIZE = (4032, 3024)  # 12.2 megapixels, a typical phone camera
LIMIT = 40_000_000


def phone_picture():
    """A photo-like image: smooth gradients plus sensor-like noise, so JPEG sizes are real."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:SIZE[1], 0:SIZE[0]]
    base = np.stack([
        128 + 100 * np.sin(x / 300.0), 128 + 100 * np.cos(y / 250.0), (x + y) % 256
    ], axis=-1)
    noisy = base + rng.normal(0, 12, base.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def encode(kind):
    buffer = io.BytesIO()
    exif = gps_exif(-118.2437, 34.0522, orientation=6)
    picture = phone_picture()
    if kind == "JPEG":
        picture.save(buffer, "JPEG", quality=92, exif=exif)
    else:
        picture.save(buffer, "HEIF", quality=80, exif=exif.tobytes())
    return buffer.getvalue()


def plain_way(data):
    """What a straightforward implementation does: full decode, resize, save, twice."""
    image = Image.open(io.BytesIO(data))
    image.load()
    image = ImageOps.exif_transpose(image).convert("RGB")
    display = image.copy()
    display.thumbnail((2048, 2048), Image.Resampling.LANCZOS)
    display.save(io.BytesIO(), "JPEG", quality=85)
    thumb = display.copy()
    thumb.thumbnail((400, 400), Image.Resampling.LANCZOS)
    thumb.save(io.BytesIO(), "JPEG", quality=80)


def pipeline(data):
    prepare_photo(data, LIMIT)


METHODS = {"pipeline": pipeline, "plain": plain_way}


def median_seconds(method, data, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        method(data)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_memory_mb(method_name, path):
    """Run one method once in a fresh process; return its peak extra RSS in MB."""
    output = subprocess.run(
        [sys.executable, __file__, "--memory-child", method_name, str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    return float(output.strip())




def memory_child(method_name, path):
    data = Path(path).read_bytes()
    before = high_water_kb()
    METHODS[method_name](data)
    print(f"{(high_water_kb() - before) / 1024:.1f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    print(f"photo pipeline vs plain Pillow, {SIZE[0]}x{SIZE[1]}, median of {args.runs} runs")
    for kind in ("JPEG", "HEIF"):
        data = encode(kind)
        path = out / f"phone.{kind.lower()}"
        path.write_bytes(data)
        ours = median_seconds(pipeline, data, args.runs)
        plain = median_seconds(plain_way, data, args.runs)
        print(
            f"{kind:5} {len(data) / 1e6:5.1f} MB  pipeline {ours * 1000:7.1f} ms  "
            f"plain {plain * 1000:7.1f} ms  speed-up {plain / ours:4.2f}x  "
            f"peak extra memory: pipeline {peak_memory_mb('pipeline', path):6.1f} MB, "
            f"plain {peak_memory_mb('plain', path):6.1f} MB"
        )


if __name__ == "__main__":
    main()
