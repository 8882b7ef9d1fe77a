"""DG2 (ICAO 9303-10 §4.7.2): the encoded face, in ISO/IEC 19794-5 or ISO/IEC 39794-5.

Envelope (ISO/IEC 7816-11 biometric information templates)::

    75 { 7F61 { 02 <count>,
                7F60 { A1 <biometric header template>, 5F2E <ISO/IEC 19794-5 record> },
                ... } }

or, for the ASN.1 successor ISO/IEC 39794-5, ``7F2E`` (constructed) instead of
``5F2E`` holding ``A1 { 65 FaceImageDataBlock }`` (DER, automatic tags).

ISO/IEC 19794-5:2005 record (big-endian)::

    "FAC\\0" "010\\0" record_length:u32 face_count:u16
    per face: block_length:u32 feature_point_count:u16 gender:u8 eye_colour:u8
              hair_colour:u8 feature_mask:u24 expression:u16 pose_angle:3×u8
              pose_angle_uncertainty:3×u8
              feature points: count × (type:u8 code:u8 x:u16 y:u16 reserved:u16)
              face_image_type:u8 image_data_type:u8 width:u16 height:u16
              colour_space:u8 source_type:u8 device_type:u16 quality:u16
              image data (JPEG or JPEG 2000) up to block_length

The metadata fields keep the codes of the encoding they came from (19794-5
gender 1 = male, 2 = female; 39794-5 gender 2 = male, 3 = female; and so on);
:attr:`DG2.encoding` says which. From 39794-5 only image, size, image data
format, face image kind, colour space, gender, eye and hair colour are read
(the public schema of the other blocks is not well established); the
19794-5-only fields stay at their defaults.

Parsing walks the file by offsets and copies each image once, so a 15–60 KB
photo costs one slice. The image format is taken from the magic bytes (JPEG
``FF D8 FF``, JP2 file ``0000000C 6A502020``, JPEG 2000 codestream ``FF4F FF51``)
and only falls back to the declared image data type.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds._common import children, decode_uint, encode_int, outer_object
from kiosk.emrtd.lds.files import DATA_GROUPS

ISO19794 = "iso19794-5"
ISO39794 = "iso39794-5"
JPEG = "jpeg"
JPEG2000 = "jpeg2000"

#: Most faces accepted in one DG2.
MAX_FACES = 32

_INFO = DATA_GROUPS[2]
_TAG = 0x75
_BIT_GROUP = 0x7F61
_BIT = 0x7F60
_BHT = 0xA1
_BDB_19794 = 0x5F2E
_BDB_39794 = 0x7F2E
_COUNT = 0x02
_FACE_IMAGE_DATA_BLOCK = 0x65  # [APPLICATION 5]

#: Biometric header template values (ISO/IEC 7816-11, CBEFF / IBIA registry).
_ICAO_HEADER_VERSION = b"\x01\x01"
_BIOMETRIC_TYPE_FACE = b"\x02"
_FORMAT_OWNER_SC37 = b"\x01\x01"
_FORMAT_TYPE_19794_FACE = b"\x00\x08"
_FORMAT_TYPE_39794_FACE = b"\x00\x2a"

_FAC = b"FAC\x00"
_VERSION_2005 = b"010\x00"
_RECORD_HEADER = struct.Struct(">4s4sIH")
_FACE_INFO = struct.Struct(">IHBBB3sH3s3s")
_FEATURE_POINT = struct.Struct(">BBHHH")
_IMAGE_INFO = struct.Struct(">BBHHBBHH")

_JP2_MAGIC = bytes.fromhex("0000000C6A5020200D0A870A")
_J2K_MAGIC = bytes.fromhex("FF4FFF51")
_JPEG_MAGIC = bytes.fromhex("FFD8FF")

#: ISO/IEC 19794-5 image data type codes.
_DATA_TYPE_19794 = {JPEG: 0, JPEG2000: 1}
#: ISO/IEC 39794-5 image data format codes (0 unknown, 2 JPEG, 3/4 JPEG 2000 lossy/lossless).
_DATA_TYPE_39794 = {JPEG: 2, JPEG2000: 3}
_CODES_19794 = {0: JPEG, 1: JPEG2000}
_CODES_39794 = {2: JPEG, 3: JPEG2000, 4: JPEG2000}
#: 39794-5 VersionBlock written by :func:`encode` (third generation, 2019).
_VERSION_39794 = (3, 2019)


@dataclass(frozen=True)
class FeaturePoint:
    """An ISO/IEC 19794-5 feature point (MPEG-4 code ``major.minor``) at pixel (x, y)."""

    point_type: int
    major: int
    minor: int
    x: int
    y: int


@dataclass(frozen=True)
class FaceImage:
    """One encoded face image and its metadata (codes as in the source encoding)."""

    image: bytes
    image_format: str
    width: int
    height: int
    gender: int = 0
    eye_colour: int = 0
    hair_colour: int = 0
    feature_mask: int = 0
    expression: int = 0
    pose_angle: tuple[int, int, int] = (0, 0, 0)
    pose_angle_uncertainty: tuple[int, int, int] = (0, 0, 0)
    feature_points: tuple[FeaturePoint, ...] = ()
    face_image_type: int = 0
    #: Declared image data type / format code; None means "derive from image_format".
    image_data_type: int | None = None
    colour_space: int = 0
    source_type: int = 0
    device_type: int = 0
    quality: int = 0


@dataclass(frozen=True)
class DG2:
    """The parsed DG2: face images in file order and the record encoding used."""

    faces: tuple[FaceImage, ...]
    encoding: str = ISO19794

    @property
    def image(self) -> bytes | None:
        """The first face image (JPEG or JPEG 2000 bytes), or None when there is none."""
        return self.faces[0].image if self.faces else None


def detect_image_format(image: bytes) -> str | None:
    """``"jpeg"`` or ``"jpeg2000"`` from the magic bytes, or None."""
    if image.startswith(_JPEG_MAGIC):
        return JPEG
    if image.startswith(_JP2_MAGIC) or image.startswith(_J2K_MAGIC):
        return JPEG2000
    return None


def _image_format(image: bytes, declared: int, encoding: str) -> str:
    """The image format by magic bytes, else by the declared code of ``encoding``."""
    found = detect_image_format(image)
    if found is not None:
        return found
    codes = _CODES_19794 if encoding == ISO19794 else _CODES_39794
    if declared in codes:
        return codes[declared]
    raise LDSParseError("DG2: image is neither JPEG nor JPEG 2000")


# --------------------------------------------------------------------------- parsing


def _parse_19794(data: bytes, start: int, end: int) -> list[FaceImage]:
    if end - start < _RECORD_HEADER.size:
        raise LDSParseError("DG2: ISO/IEC 19794-5 record shorter than its header")
    magic, version, _record_length, count = _RECORD_HEADER.unpack_from(data, start)
    if magic != _FAC:
        raise LDSParseError("DG2: biometric data block does not start with FAC")
    if version != _VERSION_2005:
        raise LDSParseError(f"DG2: unsupported ISO/IEC 19794-5 version {version!r}")
    if count < 1 or count > MAX_FACES:
        raise LDSParseError(f"DG2: {count} facial images in one record")
    faces: list[FaceImage] = []
    pos = start + _RECORD_HEADER.size
    for _ in range(count):
        if pos + _FACE_INFO.size > end:
            raise LDSParseError("DG2: facial information block truncated")
        (block_len, n_points, gender, eye, hair, mask, expression, pose, unc) = (
            _FACE_INFO.unpack_from(data, pos)
        )
        block_end = pos + block_len
        minimum = _FACE_INFO.size + n_points * _FEATURE_POINT.size + _IMAGE_INFO.size
        if block_len < minimum or block_end > end:
            raise LDSParseError(f"DG2: facial record data length {block_len} out of bounds")
        p = pos + _FACE_INFO.size
        points = []
        for _ in range(n_points):
            point_type, code, x, y, _reserved = _FEATURE_POINT.unpack_from(data, p)
            points.append(FeaturePoint(point_type, code >> 4, code & 0x0F, x, y))
            p += _FEATURE_POINT.size
        (face_type, data_type, width, height, colour, source, device, quality) = (
            _IMAGE_INFO.unpack_from(data, p)
        )
        p += _IMAGE_INFO.size
        if p >= block_end:
            raise LDSParseError("DG2: facial record without image data")
        image = data[p:block_end]
        faces.append(
            FaceImage(
                image=image,
                image_format=_image_format(image, data_type, ISO19794),
                width=width,
                height=height,
                gender=gender,
                eye_colour=eye,
                hair_colour=hair,
                feature_mask=int.from_bytes(mask, "big"),
                expression=expression,
                pose_angle=(pose[0], pose[1], pose[2]),
                pose_angle_uncertainty=(unc[0], unc[1], unc[2]),
                feature_points=tuple(points),
                face_image_type=face_type,
                image_data_type=data_type,
                colour_space=colour,
                source_type=source,
                device_type=device,
                quality=quality,
            )
        )
        pos = block_end
    return faces


def _tagged(data: bytes, start: int, end: int, what: str) -> dict[int, tuple[int, int]]:
    """Children of a SEQUENCE with distinct context tags: ``tag → (value_start, value_end)``."""
    out: dict[int, tuple[int, int]] = {}
    for tag, _, vs, ve in children(data, start, end, f"DG2 {what}", limit=64):
        if tag in out:
            raise LDSParseError(f"DG2: {what}: tag {tag:X} repeated")
        out[tag] = (vs, ve)
    return out


def _int_at(data: bytes, span: tuple[int, int], what: str) -> int:
    return decode_uint(data[span[0] : span[1]], f"DG2 {what}")


def _code(data: bytes, items: dict[int, tuple[int, int]], tag: int, what: str) -> int | None:
    """A 39794 code CHOICE ``[n] { [0] code | [1] extensionBlock }``; None when absent."""
    if tag not in items:
        return None
    inner = _tagged(data, *items[tag], what)
    if 0x80 in inner:
        return _int_at(data, inner[0x80], what)
    return 0  # extension block only: an unknown code


def _parse_39794(data: bytes, start: int, end: int) -> list[FaceImage]:
    # 7F2E { A1 { 65 { A0 version, A1 representation blocks } } }; tolerate the inner levels
    # being merged (A1 holding A0/A1 directly, or 65 directly under 7F2E).
    level = _tagged(data, start, end, "39794 data block")
    for _ in range(2):
        if _FACE_IMAGE_DATA_BLOCK in level:
            level = _tagged(data, *level[_FACE_IMAGE_DATA_BLOCK], "FaceImageDataBlock")
            break
        if 0xA1 in level and 0xA0 not in level:
            level = _tagged(data, *level[0xA1], "39794 data block")
    if 0xA0 not in level or 0xA1 not in level:
        raise LDSParseError("DG2: ISO/IEC 39794-5 block without version or representations")
    faces: list[FaceImage] = []
    blocks = children(data, *level[0xA1], "DG2 representation blocks", limit=MAX_FACES)
    for tag, _, vs, ve in blocks:
        if tag != 0x30:
            raise LDSParseError(f"DG2: representation block tag {tag:X}")
        rep = _tagged(data, vs, ve, "representation block")
        if 0xA1 not in rep:
            raise LDSParseError("DG2: representation block without image representation")
        image_rep = _tagged(data, *rep[0xA1], "image representation")
        if 0xA0 not in image_rep:
            continue  # extension block: not a 2D image
        base = _tagged(data, *image_rep[0xA0], "image representation base")
        if 0xA0 not in base:
            continue  # 3D shape representation
        rep2d = _tagged(data, *base[0xA0], "2D image representation")
        if 0x80 not in rep2d or 0xA1 not in rep2d:
            raise LDSParseError("DG2: 2D image representation without data or information")
        img_start, img_end = rep2d[0x80]
        if img_start == img_end:
            raise LDSParseError("DG2: empty 2D image representation")
        info = _tagged(data, *rep2d[0xA1], "2D image information")
        data_type = _code(data, info, 0xA0, "image data format")
        width = height = 0
        if 0xA7 in info:
            size = _tagged(data, *info[0xA7], "image size")
            if 0x80 in size:
                width = _int_at(data, size[0x80], "width")
            if 0x81 in size:
                height = _int_at(data, size[0x81], "height")
        gender = eye = hair = None
        if 0xA8 in rep:
            meta = _tagged(data, *rep[0xA8], "identity metadata")
            gender = _code(data, meta, 0xA0, "gender")
            eye = _code(data, meta, 0xA1, "eye colour")
            hair = _code(data, meta, 0xA2, "hair colour")
        image = data[img_start:img_end]
        faces.append(
            FaceImage(
                image=image,
                image_format=_image_format(image, data_type or 0, ISO39794),
                width=width,
                height=height,
                gender=gender or 0,
                eye_colour=eye or 0,
                hair_colour=hair or 0,
                face_image_type=_code(data, info, 0xA1, "face image kind") or 0,
                image_data_type=data_type or 0,
                colour_space=_code(data, info, 0xA9, "colour space") or 0,
            )
        )
    return faces


def parse(data: bytes) -> DG2:
    """Parse DG2; trailing padding is ignored.

    Raises :class:`LDSParseError` on a broken envelope or record, an
    unsupported 19794-5 version, or a file without any 2D face image.
    """
    data = bytes(data)
    start, end = outer_object(data, _TAG, _INFO.name, _INFO.max_size)
    top = children(data, start, end, "DG2", limit=1)
    if len(top) != 1 or top[0][0] != _BIT_GROUP:
        raise LDSParseError("DG2: expected one biometric information group template (7F61)")
    _, _, g_start, g_end = top[0]
    faces: list[FaceImage] = []
    encoding: str | None = None
    for tag, _, vs, ve in children(data, g_start, g_end, "DG2", limit=MAX_FACES + 1):
        if tag == _COUNT:
            continue  # the templates themselves are what counts
        if tag != _BIT:
            raise LDSParseError(f"DG2: unexpected tag {tag:X} in the group template")
        parts = {t: (s, e) for t, _, s, e in children(data, vs, ve, "DG2 template", limit=8)}
        if _BDB_19794 in parts:
            bdb_start, bdb_end = parts[_BDB_19794]
            found = _parse_19794(data, bdb_start, bdb_end)
            kind = ISO19794
        elif _BDB_39794 in parts:
            bdb_start, bdb_end = parts[_BDB_39794]
            if data[bdb_start : bdb_start + 4] == _FAC:  # 19794-5 record under 7F2E
                found, kind = _parse_19794(data, bdb_start, bdb_end), ISO19794
            else:
                found, kind = _parse_39794(data, bdb_start, bdb_end), ISO39794
        else:
            raise LDSParseError("DG2: template without a biometric data block")
        encoding = encoding or kind
        faces.extend(found)
        if len(faces) > MAX_FACES:
            raise LDSParseError(f"DG2: more than {MAX_FACES} faces")
    if not faces or encoding is None:
        raise LDSParseError("DG2: no face image")
    return DG2(tuple(faces), encoding)


# --------------------------------------------------------------------------- encoding


def _bht(format_type: bytes) -> bytes:
    return tlv.encode(
        _BHT,
        tlv.encode_many(
            (0x80, _ICAO_HEADER_VERSION),
            (0x81, _BIOMETRIC_TYPE_FACE),
            (0x82, b"\x00"),
            (0x87, _FORMAT_OWNER_SC37),
            (0x88, format_type),
        ),
    )


def _declared_type(face: FaceImage, table: dict[str, int]) -> int:
    if face.image_data_type is not None:
        return face.image_data_type
    try:
        return table[face.image_format]
    except KeyError:
        raise ValueError(f"unknown image format {face.image_format!r}") from None


def encode_19794_record(face: FaceImage) -> bytes:
    """One ISO/IEC 19794-5:2005 record holding ``face``."""
    try:
        points = b"".join(
            _FEATURE_POINT.pack(p.point_type, (p.major << 4) | p.minor, p.x, p.y, 0)
            for p in face.feature_points
        )
        image_info = _IMAGE_INFO.pack(
            face.face_image_type,
            _declared_type(face, _DATA_TYPE_19794),
            face.width,
            face.height,
            face.colour_space,
            face.source_type,
            face.device_type,
            face.quality,
        )
        block_len = _FACE_INFO.size + len(points) + len(image_info) + len(face.image)
        info = _FACE_INFO.pack(
            block_len,
            len(face.feature_points),
            face.gender,
            face.eye_colour,
            face.hair_colour,
            face.feature_mask.to_bytes(3, "big"),
            face.expression,
            bytes(face.pose_angle),
            bytes(face.pose_angle_uncertainty),
        )
        header = _RECORD_HEADER.pack(_FAC, _VERSION_2005, _RECORD_HEADER.size + block_len, 1)
    except (struct.error, OverflowError) as exc:
        raise ValueError(f"face metadata out of range for ISO/IEC 19794-5: {exc}") from exc
    return b"".join((header, info, points, image_info, face.image))


def _code_tlv(tag: int, code: int) -> bytes:
    return tlv.encode(tag, tlv.encode(0x80, encode_int(code)))


_DEFAULT_19794_ONLY = FaceImage(b"", JPEG, 0, 0)
_19794_ONLY_FIELDS = (
    "feature_mask",
    "expression",
    "pose_angle",
    "pose_angle_uncertainty",
    "feature_points",
    "source_type",
    "device_type",
    "quality",
)


def encode_39794_block(face: FaceImage) -> bytes:
    """The ``A1 { 65 FaceImageDataBlock }`` content of a 7F2E block for ``face``."""
    for name in _19794_ONLY_FIELDS:
        if getattr(face, name) != getattr(_DEFAULT_19794_ONLY, name):
            raise ValueError(f"{name} is not written in the ISO/IEC 39794-5 encoding")
    info = tlv.encode_many(
        (0xA0, tlv.encode(0x80, encode_int(_declared_type(face, _DATA_TYPE_39794)))),
        (0xA1, tlv.encode(0x80, encode_int(face.face_image_type))),
        (0xA7, tlv.encode_many((0x80, encode_int(face.width)), (0x81, encode_int(face.height)))),
        (0xA9, tlv.encode(0x80, encode_int(face.colour_space))),
    )
    rep2d = tlv.encode(0x80, face.image) + tlv.encode(0xA1, info)
    image_representation = tlv.encode(0xA1, tlv.encode(0xA0, tlv.encode(0xA0, rep2d)))
    # identity metadata: code 0 means "unknown", which is what an absent element says too
    codes = ((0xA0, face.gender), (0xA1, face.eye_colour), (0xA2, face.hair_colour))
    metadata_items = b"".join(_code_tlv(tag, code) for tag, code in codes if code)
    metadata = tlv.encode(0xA8, metadata_items) if metadata_items else b""
    representation = tlv.encode(
        0x30, tlv.encode(0x80, encode_int(0)) + image_representation + metadata
    )
    version = tlv.encode_many(
        (0x80, encode_int(_VERSION_39794[0])), (0x81, encode_int(_VERSION_39794[1]))
    )
    block = tlv.encode(
        _FACE_IMAGE_DATA_BLOCK, tlv.encode(0xA0, version) + tlv.encode(0xA1, representation)
    )
    return tlv.encode(0xA1, block)


def encode(dg2: DG2) -> bytes:
    """DG2 bytes for the card simulator: one biometric information template per face."""
    if not dg2.faces:
        raise ValueError("DG2 needs at least one face")
    templates: list[bytes] = []
    for face in dg2.faces:
        if dg2.encoding == ISO19794:
            bdb = tlv.encode(_BDB_19794, encode_19794_record(face))
            bht = _bht(_FORMAT_TYPE_19794_FACE)
        elif dg2.encoding == ISO39794:
            bdb = tlv.encode(_BDB_39794, encode_39794_block(face))
            bht = _bht(_FORMAT_TYPE_39794_FACE)
        else:
            raise ValueError(f"unknown DG2 encoding {dg2.encoding!r}")
        templates.append(tlv.encode(_BIT, bht + bdb))
    group = tlv.encode(_COUNT, encode_int(len(templates))) + b"".join(templates)
    return tlv.encode(_TAG, tlv.encode(_BIT_GROUP, group))
