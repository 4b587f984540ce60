"""The photo pipeline: sniff, orient, read GPS, strip metadata, resize, store by content
(the files written in the same transaction as their rows, and removed if it fails).

The file type comes from the bytes, never from the client's name or declared type. Stored
files are fresh JPEG encodings of the pixels only, so no EXIF, GPS, XMP, ICC or comment
survives. A file is named by the sha256 of its content and written atomically.

Files that carry web-page code or more hidden text than any camera writes are refused
outright, even though re-encoding would drop it: such a file was made to attack someone.
Data a phone appends after the image (motion-photo video, HDR gain map) is accepted.
"""

import hashlib
import io
import os
import re
import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pillow_heif
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from app.errors import PhotoError, ServerBusy, StorageUnavailable, Text
from app.storage import reports as report_rows

pillow_heif.register_heif_opener()

DISPLAY_MAX_SIDE = 2048
#: JPEGs are decoded at the reduced scale whose long side is still at least this, so most
#: phone photos need no resampling at all (a 4032 px photo decodes straight to 2016 px).
DISPLAY_MIN_DECODED_SIDE = 1536
THUMB_MAX_SIDE = 400
DISPLAY_QUALITY = 85
THUMB_QUALITY = 80
#: How errors name a photo when only one is sent ("Photo 2" when there are several).
THE_PHOTO = Text("The photo")
#: Markup a browser would run (matched on lower-cased bytes). Long or delimited words, so
#: that the random bytes of real photos, and of the videos phones append, practically never
#: match; the plain words are looked for first because a regex over megabytes is slow.
MARKUP = re.compile(rb"<(?:script|iframe|object|embed|html[\s>]|body[\s>])")
SCRIPT_WORDS = (b"javascript:", b"onload", b"onerror")
SCRIPT = re.compile(rb"javascript:|on(?:load|error)\s*=")
#: A JPEG segment holds at most 64 kB, so no camera writes more EXIF or comment than this.
HIDDEN_TEXT_LIMIT = 64 * 1024
MAGIC = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
}
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
#: Modes Pillow resizes smoothly as they are; others become RGB before resizing.
RESIZABLE_MODES = {"RGB", "RGBA", "L", "LA"}
BUSY = Text("Too many photos are being processed right now, so nothing was saved. "
            "Please try again in a few seconds.")


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo ready to store: clean JPEG bytes for display and thumbnail, and its GPS."""

    display: bytes
    thumb: bytes
    width: int
    height: int
    gps: tuple | None

    @property
    def display_name(self):
        return content_name(self.display)

    @property
    def thumb_name(self):
        return content_name(self.thumb)


def content_name(data):
    return hashlib.sha256(data).hexdigest() + ".jpg"


def sniff_type(data):
    """The image type told by the first bytes, or None.

    >>> sniff_type(b"\\xff\\xd8\\xff\\xe0 rest of a JPEG")
    'JPEG'
    >>> sniff_type(b"<html><img src=x onerror=alert(1)>") is None
    True
    """
    for magic, kind in MAGIC.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "HEIF"
    return None


def prepare_photo(data, max_pixels, label=THE_PHOTO):
    """Turn uploaded bytes into a :class:`PreparedPhoto`, or raise :class:`PhotoError`."""
    with decoded_photo(data, max_pixels, label) as (image, gps):
        display = _shrunk(image) if image.mode in RESIZABLE_MODES else _rgb(image)
        display.thumbnail((DISPLAY_MAX_SIDE, DISPLAY_MAX_SIDE), reducing_gap=2.0)
        display = _rgb(display)
        thumb = display.copy()
        thumb.thumbnail((THUMB_MAX_SIDE, THUMB_MAX_SIDE), reducing_gap=2.0)
        return PreparedPhoto(
            display=_jpeg_bytes(display, DISPLAY_QUALITY),
            thumb=_jpeg_bytes(thumb, THUMB_QUALITY),
            width=display.width,
            height=display.height,
            gps=gps,
        )


@contextmanager
def decoded_photo(data, max_pixels, label=THE_PHOTO):
    """The upright pixels and GPS of a photo, holding a decode slot until the block ends.

    Everything that can be refused from the header is refused before a slot is taken. JPEGs
    decode at the smallest reduced scale still large enough for display, so a 48-megapixel
    photo takes the memory of a 3-megapixel one.
    """
    with _open_image(data, max_pixels, label) as image, DECODE_SLOTS.held():
        if image.format == "JPEG":
            image.draft("RGB", _draft_size(image.size))
        try:
            image.load()
            gps = _gps_of(image)
            _refuse_hidden_text(image, label)
            ImageOps.exif_transpose(image, in_place=True)
        except (OSError, SyntaxError, ValueError) as error:
            raise PhotoError("%(label)s is damaged or incomplete (%(error)s).",
                             label=label, error=str(error)) from None
        yield image, gps


def photo_position(data, max_pixels):
    """The (lon, lat) a photo was taken at, from its EXIF GPS, or None; nothing is decoded.

    A PNG whose EXIF comes after its pixels would need a full decode, so it has no position
    here (phones do not write PNGs with a position).
    """
    with _open_image(data, max_pixels, THE_PHOTO) as image:
        if image.format == "PNG" and "exif" not in image.info:
            return None
        return _gps_of(image)


class DecodeSlots:
    """At most ``size`` photos decoded at once in this process, each waiting briefly for a
    slot; past that, :class:`ServerBusy`. Decoding is what costs memory, so this bounds a
    worker's memory however many threads it runs."""

    def __init__(self, size, wait_seconds):
        self.size = size
        self.wait_seconds = wait_seconds
        self.semaphore = threading.BoundedSemaphore(size)

    @contextmanager
    def held(self):
        if not self.semaphore.acquire(timeout=self.wait_seconds):
            raise ServerBusy.from_text(BUSY)
        try:
            yield
        finally:
            self.semaphore.release()


#: Two decodes per worker process: at the 25 MP limit the worst photo (a transparent PNG)
#: peaks near 220 MB, so a worker's decoding stays under about half a gigabyte.
DECODE_SLOTS = DecodeSlots(size=2, wait_seconds=2.0)


def _open_image(data, max_pixels, label):
    kind = sniff_type(data)
    if kind is None:
        raise PhotoError("%(label)s is not an image we accept (JPEG, PNG, WebP or HEIC).",
                         label=label)
    if _has_active_content(data):
        raise PhotoError("%(label)s contains web page code (HTML or script), so it is refused. "
                         "Send the photo as your camera took it.", label=label)
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError.from_text(_too_large(label, max_pixels)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoError("%(label)s is damaged or is not really a %(kind)s image.",
                         label=label, kind=kind) from None
    if image.width * image.height > max_pixels:
        image.close()
        raise PhotoError.from_text(_too_large(label, max_pixels))
    return image


def _has_active_content(data):
    lowered = data.lower()
    if MARKUP.search(lowered):
        return True
    return any(word in lowered for word in SCRIPT_WORDS) and bool(SCRIPT.search(lowered))


def _refuse_hidden_text(image, label):
    """EXIF, JPEG comments and PNG text beyond what a camera writes: a 1 MB "comment"."""
    comments = [value for marker, value in getattr(image, "applist", ()) if marker == "COM"]
    comments += [str(value).encode() for value in getattr(image, "text", {}).values()]
    sizes = (len(image.info.get("exif") or b""), sum(len(value) for value in comments))
    if max(sizes) > HIDDEN_TEXT_LIMIT:
        raise PhotoError("%(label)s carries %(size)s kB of hidden text (EXIF or comments), "
                         "far more than a camera writes, so it is refused.",
                         label=label, size=max(sizes) // 1024)


def _too_large(label, max_pixels):
    return Text("%(label)s has too many pixels: the limit is %(limit)s megapixels.",
                label=label, limit=f"{max_pixels / 1e6:g}")


def _shrunk(image):
    """The image box-reduced by the largest whole factor that keeps the display size, so that
    the copies made by flattening and resampling are small (a PNG cannot decode smaller)."""
    factor = max(image.size) // DISPLAY_MAX_SIDE
    return image.reduce(factor) if factor >= 2 else image


def _draft_size(size):
    """The smallest decode size Pillow may pick whose long side stays >= the minimum."""
    scale = min(1.0, DISPLAY_MIN_DECODED_SIDE / max(size))
    return (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))


def _gps_of(image):
    """(lon, lat) from the EXIF GPS block, or None when absent or not a real position."""
    try:
        gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps.get(ExifTags.GPS.GPSLatitudeRef))
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude], gps.get(ExifTags.GPS.GPSLongitudeRef))
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError, SyntaxError, OSError):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return (lon, lat)


def _degrees(dms, ref):
    degrees, minutes, seconds = (float(v) for v in dms)
    value = degrees + minutes / 60 + seconds / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    return -value if ref in ("S", "W") else value


def _rgb(image):
    """Pixels only, as RGB; transparency is flattened onto white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def _jpeg_bytes(image, quality):
    image.info.clear()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


class PhotoStore:
    """Content-addressed photo files under one folder: ``root/ab/abcdef....jpg``."""

    def __init__(self, root):
        self.root = Path(root)

    def path(self, name):
        return self.root / name[:2] / name

    def write(self, name, data):
        """Write atomically; return True if the file is new, False if it already existed."""
        target = self.path(name)
        if target.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{name}.{secrets.token_hex(8)}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        return True

    def remove(self, name):
        self.path(name).unlink(missing_ok=True)

    def names(self):
        """Every stored file name (temporary files excluded)."""
        return {p.name for p in self.root.glob("*/*.jpg")} if self.root.exists() else set()


@contextmanager
def storing_photos(db, store):
    """One transaction in which photo files are written; on failure, the files this block
    created (and no other report uses) are removed, and a disk error becomes a 503."""
    created = []

    def write(photo):
        for name, data in ((photo.display_name, photo.display), (photo.thumb_name, photo.thumb)):
            if store.write(name, data):
                created.append(name)

    try:
        with db.atomic():
            yield write
    except BaseException as error:
        for name in created:
            if not report_rows.photo_is_referenced(db, name):
                store.remove(name)
        if isinstance(error, OSError):
            raise StorageUnavailable(
                "We could not save this right now because of a problem on our side "
                "(no space left for photos). Nothing was saved: please try again later."
            ) from error
        raise
