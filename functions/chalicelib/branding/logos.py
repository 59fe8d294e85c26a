"""Brand logos in S3: type from the file's own magic bytes, never from the
client's Content-Type; a size cap; content-addressed keys so a URL never
changes meaning and can be cached for a long time.

The bytes are also decoded (Pillow) before they are stored: magic bytes followed by
anything at all (a polyglot, a truncated or corrupt file, a decompression bomb) pass
a sniff, and every browser that shows the brand would be handed them. Pillow is
imported on upload only, so no other request pays for loading it.

SVG is refused, not sanitised: an SVG is a document that can carry script and
external references, and a sanitiser is one more parser to get wrong. PNG,
JPEG and WebP cover every logo a company needs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .errors import LogoNotFoundError, LogoRejectedError, LogoTooLargeError

MAX_LOGO_BYTES = 256 * 1024
MIN_LOGO_BYTES = 32
MAX_LOGO_PIXELS = 4096 * 4096  # a logo; far more is a decompression bomb
_PILLOW_FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}
CACHE_CONTROL = "public, max-age=31536000, immutable"

_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True)
class Logo:
    key: str
    content_type: str
    body: bytes


def sniff(data: bytes) -> str:
    """The file extension the bytes really are, or ``LogoRejectedError``."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise LogoRejectedError("a logo must be a PNG, JPEG or WebP image (SVG is not accepted)")


def check(data: bytes) -> str:
    if len(data) > MAX_LOGO_BYTES:
        raise LogoTooLargeError(f"a logo is at most {MAX_LOGO_BYTES} bytes")
    if len(data) < MIN_LOGO_BYTES:
        raise LogoRejectedError("the file is too small to be an image")
    ext = sniff(data)
    decode(data, ext)
    return ext


def decode(data: bytes, ext: str) -> None:
    """Decode every pixel as the format the magic bytes claim; LogoRejectedError if the
    file is not wholly that image."""
    from io import BytesIO

    from PIL import Image

    try:
        with Image.open(BytesIO(data), formats=[_PILLOW_FORMATS[ext]]) as image:
            width, height = image.size
            if width * height > MAX_LOGO_PIXELS:
                raise LogoRejectedError(f"a logo has at most {MAX_LOGO_PIXELS} pixels")
            image.load()  # every pixel: a truncated or corrupt file fails here
    except LogoRejectedError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise LogoRejectedError(f"the file is not a valid {ext.upper()} image") from exc


def logo_key(slug: str, data: bytes, ext: str) -> str:
    return f"brands/{slug}/logo-{hashlib.sha256(data).hexdigest()[:16]}.{ext}"


class LogoStore:
    def __init__(self, s3_client: Any, bucket: str | None) -> None:
        self._s3 = s3_client
        self._bucket = bucket

    def _bucket_name(self) -> str:
        if not self._bucket:
            raise RuntimeError("POWERLET_ASSETS_BUCKET is not set")
        return self._bucket

    def put(self, slug: str, data: bytes) -> Logo:
        ext = check(data)
        key = logo_key(slug, data, ext)
        self._s3.put_object(
            Bucket=self._bucket_name(),
            Key=key,
            Body=data,
            ContentType=_TYPES[ext],
            CacheControl=CACHE_CONTROL,
        )
        return Logo(key, _TYPES[ext], data)

    def get(self, key: str) -> Logo:
        try:
            obj = self._s3.get_object(Bucket=self._bucket_name(), Key=key)
        except ClientError as exc:
            raise LogoNotFoundError(f"logo {key!r} not found") from exc
        body = obj["Body"].read(MAX_LOGO_BYTES + 1)
        # re-sniff on the way out: the bucket is trusted, but a wrong type must not reach a browser
        ext = check(body)
        return Logo(key, _TYPES[ext], body)
