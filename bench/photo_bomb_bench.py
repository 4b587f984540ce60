"""Photo decode cost under attack (issue 13, point 9): CPU seconds and peak memory.

Run: .venv/bin/python bench/photo_bomb_bench.py

The issue's attack is one request of three small PNGs just under the old 40-megapixel
limit. For each set of three files this prints, measured in a fresh process per line, the
CPU seconds (user + system, ``resource.getrusage``) and the peak extra memory (VmHWM, the
peak RSS) of:

- ``old``: the pipeline as it was before the fix (40 MP limit, full decode with
  ``Image.open().load()``, an upright copy, RGB conversion at full size, then resizing);
- ``new``: ``app.reporting.photos.prepare_photo`` with today's 25 MP limit.

Sets: three transparent PNGs just under the old limit (now refused from the header), three just
under the new limit (still decoded in full: PNG allows nothing else) and three recent-iPhone
24 MP JPEGs (decoded at half scale now).
"""

import io
import resource
import struct
import subprocess
import sys
import zlib
from pathlib import Path

from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import high_water_kb  # noqa: E402

from app.errors import PhotoError  # noqa: E402
from app.reporting.photos import _rgb, prepare_photo  # noqa: E402

OLD_LIMIT = 40_000_000
NEW_LIMIT = 25_000_000
SETS = {
    "3 RGBA PNG 6324x6324 (40.0 MP, under the old limit)": ("PNG", (6324, 6324)),
    "3 RGBA PNG 5000x4999 (25.0 MP, under the new limit)": ("PNG", (5000, 4999)),
    "3 JPEG 5712x4284 (24.5 MP, recent iPhone)": ("JPEG", (5712, 4284)),
}


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def clear_png(size):
    """A valid, fully transparent RGBA PNG (the costliest kind to flatten), compressed row
    by row: about 150 kB at 40 MP."""
    width, height = size
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + 4 * width)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", pixels)
            + png_chunk(b"IEND", b""))


def phone_jpeg(size):
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def old_pipeline(data):
    """The steps prepare_photo took before the fix, at the old limit."""
    image = Image.open(io.BytesIO(data))
    if image.width * image.height > OLD_LIMIT:
        raise PhotoError("too many pixels")
    image.load()
    upright = ImageOps.exif_transpose(image)
    display = _rgb(upright)
    display.thumbnail((2048, 2048), reducing_gap=2.0)
    thumb = display.copy()
    thumb.thumbnail((400, 400), reducing_gap=2.0)
    for picture, quality in ((display, 85), (thumb, 80)):
        picture.save(io.BytesIO(), "JPEG", quality=quality)


def new_pipeline(data):
    prepare_photo(data, NEW_LIMIT)


PIPELINES = {"old": old_pipeline, "new": new_pipeline}


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(pipeline, path):
    """Run one pipeline on three copies of a file; print CPU s, peak extra MB, outcome."""
    data = Path(path).read_bytes()
    before_memory, before_cpu = high_water_kb(), cpu_seconds()
    outcome = "stored"
    for _ in range(3):
        try:
            PIPELINES[pipeline](data)
        except PhotoError:
            outcome = "refused"
    print(f"{cpu_seconds() - before_cpu:.2f} {(high_water_kb() - before_memory) / 1024:.0f} "
          f"{outcome}")


def measure(pipeline, path):
    output = subprocess.run([sys.executable, __file__, "--child", pipeline, str(path)],
                            check=True, capture_output=True, text=True).stdout.split()
    return float(output[0]), float(output[1]), output[2]


def main():
    if sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:4])
        return
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    print("three photos of one request, each line a fresh process: CPU s, peak extra memory")
    for label, (kind, size) in SETS.items():
        data = clear_png(size) if kind == "PNG" else phone_jpeg(size)
        path = out / f"bomb-{size[0]}x{size[1]}.{kind.lower()}"
        path.write_bytes(data)
        print(f"{label}, request {3 * len(data) / 1000:.0f} kB")
        for pipeline in PIPELINES:
            cpu, memory, outcome = measure(pipeline, path)
            print(f"  {pipeline:3}  {cpu:5.2f} s CPU  {memory:5.0f} MB peak  ({outcome})")


if __name__ == "__main__":
    main()
