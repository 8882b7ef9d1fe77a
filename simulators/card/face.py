"""A made-up, face-like portrait JPEG for DG2, deterministic per card and close to a target size.

Real CCCD photos are JFIF JPEGs of some kilobytes (about 15 KB is simulated,
see CCCD.md). The picture is drawn with Pillow: a light studio background,
shoulders in a shirt, neck, head, hair, eyes and mouth, with colours and
proportions chosen from a seed so each card gets its own portrait. A fine
seeded grain gives the JPEG encoder something to spend bytes on; the quality
(and if needed the grain and the image size) is searched so the file lands
within ±15 % of the target.
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFilter

#: Portrait size used by default (ICAO 9303 token-style, 3:4).
DEFAULT_SIZE = (240, 320)
DEFAULT_TARGET = 15_000
TOLERANCE = 0.15


@dataclass(frozen=True)
class Portrait:
    """A generated portrait: JPEG bytes and its pixel size."""

    jpeg: bytes
    width: int
    height: int


def _rng(seed: str | bytes | int) -> random.Random:
    if isinstance(seed, int):
        seed = str(seed)
    if isinstance(seed, str):
        seed = seed.encode("utf-8")
    return random.Random(int.from_bytes(hashlib.sha256(b"face:" + seed).digest()[:8], "big"))


def _draw(seed: str | bytes | int, size: tuple[int, int], grain: int) -> Image.Image:
    rng = _rng(seed)
    w, h = size
    bg = (rng.randint(225, 245), rng.randint(230, 248), rng.randint(238, 252))
    img = Image.new("RGB", size, bg)
    d = ImageDraw.Draw(img)
    skin = (rng.randint(200, 235), rng.randint(160, 195), rng.randint(125, 160))
    shirt = (rng.randint(20, 230), rng.randint(20, 230), rng.randint(20, 230))
    hair = (rng.randint(10, 45), rng.randint(10, 35), rng.randint(5, 30))
    cx = w // 2 + rng.randint(-w // 40, w // 40)
    head_w = int(w * rng.uniform(0.36, 0.44))
    head_h = int(head_w * rng.uniform(1.25, 1.4))
    top = int(h * rng.uniform(0.12, 0.17))
    # Shoulders and shirt.
    d.ellipse((cx - int(w * 0.6), int(h * 0.7), cx + int(w * 0.6), int(h * 1.3)), fill=shirt)
    # Neck.
    neck_w = head_w // 3
    d.rectangle((cx - neck_w // 2, top + head_h - 20, cx + neck_w // 2, int(h * 0.74)), fill=skin)
    # Hair behind the head, then the face.
    hair_box = (cx - head_w // 2 - 6, top - 10, cx + head_w // 2 + 6, top + head_h // 2 + 20)
    d.ellipse(hair_box, fill=hair)
    d.ellipse((cx - head_w // 2, top, cx + head_w // 2, top + head_h), fill=skin)
    fringe = rng.uniform(0.18, 0.3)
    d.chord(
        (cx - head_w // 2, top - 6, cx + head_w // 2, top + int(head_h * fringe * 2)),
        180,
        360,
        fill=hair,
    )
    # Eyes, brows, nose, mouth.
    eye_y = top + int(head_h * 0.45)
    dx = head_w // 5
    for sx in (-1, 1):
        ex = cx + sx * dx
        d.ellipse((ex - 7, eye_y - 4, ex + 7, eye_y + 4), fill=(245, 245, 245))
        d.ellipse((ex - 3, eye_y - 3, ex + 3, eye_y + 3), fill=(35, 25, 20))
        d.line((ex - 9, eye_y - 11, ex + 9, eye_y - 12), fill=hair, width=3)
    nose_y = top + int(head_h * 0.62)
    d.line((cx, eye_y + 6, cx - 4, nose_y, cx + 3, nose_y), fill=(170, 120, 95), width=2)
    mouth_y = top + int(head_h * 0.76)
    d.arc((cx - 16, mouth_y - 8, cx + 16, mouth_y + 6), 20, 160, fill=(150, 60, 60), width=3)
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    if grain:
        noise = Image.frombytes("L", size, rng.randbytes(w * h))
        noise = noise.point(lambda v: 128 + (v - 128) * grain // 128)
        img = ImageChops.add(img, Image.merge("RGB", (noise, noise, noise)), scale=1.0, offset=-128)
    return img


def _encode(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _best_quality(img: Image.Image, target: int) -> bytes:
    """Binary-search the JPEG quality whose output is closest to ``target`` bytes."""
    lo, hi = 5, 95
    best = _encode(img, 75)
    while lo <= hi:
        q = (lo + hi) // 2
        data = _encode(img, q)
        if abs(len(data) - target) < abs(len(best) - target):
            best = data
        if len(data) < target:
            lo = q + 1
        else:
            hi = q - 1
    return best


def make_portrait(
    seed: str | bytes | int,
    target_bytes: int = DEFAULT_TARGET,
    size: tuple[int, int] = DEFAULT_SIZE,
) -> Portrait:
    """A JPEG portrait for ``seed`` within ±15 % of ``target_bytes`` (same seed, same bytes).

    The grain strength and, for targets far from what the size can hold, the
    picture's dimensions are adjusted until the size fits.
    """
    if target_bytes < 1000:
        raise ValueError("target_bytes below 1000 cannot hold a portrait")
    w, h = size
    lo_ok, hi_ok = target_bytes * (1 - TOLERANCE), target_bytes * (1 + TOLERANCE)
    best: Portrait | None = None
    for _ in range(8):
        data = b""
        for grain in (6, 14, 28, 48, 80):
            data = _best_quality(_draw(seed, (w, h), grain), target_bytes)
            if len(data) >= lo_ok:
                break
        candidate = Portrait(data, w, h)
        if best is None or abs(len(data) - target_bytes) < abs(len(best.jpeg) - target_bytes):
            best = candidate
        if lo_ok <= len(data) <= hi_ok:
            return candidate
        # Too small even with heavy grain, or too big even at low quality: resize.
        scale = (target_bytes / max(len(data), 1)) ** 0.5
        scale = min(max(scale, 0.5), 2.0)
        w, h = max(60, int(w * scale) // 4 * 4), max(80, int(h * scale) // 4 * 4)
    assert best is not None
    return best


def make_face_jpeg(seed: str | bytes | int, target_bytes: int = DEFAULT_TARGET) -> bytes:
    """JPEG bytes of :func:`make_portrait`."""
    return make_portrait(seed, target_bytes).jpeg
