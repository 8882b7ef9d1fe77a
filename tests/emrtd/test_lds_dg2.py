"""DG2: ISO/IEC 19794-5 and 39794-5 face records, image format detection, efficiency."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc

import pytest
from PIL import Image

from kiosk.emrtd import tlv
from kiosk.emrtd.errors import LDSParseError
from kiosk.emrtd.lds import dg2
from kiosk.emrtd.lds.dg2 import DG2, FaceImage, FeaturePoint, detect_image_format


def jpeg(width: int = 24, height: int = 32, quality: int = 80, noise: bool = False) -> bytes:
    img = Image.new("RGB", (width, height), (200, 150, 120))
    if noise:
        img = Image.frombytes(
            "RGB", (width, height), bytes((i * 7919) % 251 for i in range(width * height * 3))
        )
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def jpeg2000(codestream: bool = False) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 20), (10, 20, 30)).save(out, "JPEG2000", no_jp2=codestream)
    return out.getvalue()


def wrap(*templates: bytes, count: int | None = None) -> bytes:
    n = len(templates) if count is None else count
    return tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x02, bytes([n])) + b"".join(templates)))


BHT_19794 = bytes.fromhex("A112800201018101028201008702010188020008")


def record_19794(image: bytes) -> bytes:
    """A 19794-5:2005 record written field by field from the standard's layout."""
    block = (
        struct.pack(">I", 20 + 8 + 12 + len(image))
        + bytes.fromhex("0001")  # one feature point
        + bytes.fromhex("010203")  # gender male, eye blue, hair black
        + bytes.fromhex("000003")  # feature mask
        + bytes.fromhex("0001")  # expression neutral
        + bytes.fromhex("010203040506")  # pose yaw/pitch/roll, uncertainty
        + bytes.fromhex("01C1006400780000")  # point type 1, code 12.1, (100,120)
        + bytes.fromhex("010000F00140010200000000")  # image information
        + image
    )
    return b"FAC\x00" + b"010\x00" + struct.pack(">IH", 14 + len(block), 1) + block


def test_19794_record_fields_by_hand() -> None:
    image = jpeg()
    data = wrap(tlv.encode(0x7F60, BHT_19794 + tlv.encode(0x5F2E, record_19794(image))))
    parsed = dg2.parse(data + b"\x00" * 11)
    assert parsed.encoding == "iso19794-5"
    assert parsed.image == image
    face = parsed.faces[0]
    assert face == FaceImage(
        image=image,
        image_format="jpeg",
        width=240,
        height=320,
        gender=1,
        eye_colour=2,
        hair_colour=3,
        feature_mask=3,
        expression=1,
        pose_angle=(1, 2, 3),
        pose_angle_uncertainty=(4, 5, 6),
        feature_points=(FeaturePoint(1, 12, 1, 100, 120),),
        face_image_type=1,
        image_data_type=0,
        colour_space=1,
        source_type=2,
    )
    # encode writes the same record and header template
    assert dg2.encode(parsed) == data


def test_19794_round_trip_several_faces() -> None:
    faces = (
        FaceImage(jpeg(), "jpeg", 24, 32, gender=2),
        FaceImage(jpeg2000(), "jpeg2000", 16, 20, image_data_type=1),
        FaceImage(jpeg2000(codestream=True), "jpeg2000", 16, 20, image_data_type=1),
    )
    parsed = dg2.parse(dg2.encode(DG2(faces)))
    assert [f.image_format for f in parsed.faces] == ["jpeg", "jpeg2000", "jpeg2000"]
    assert parsed.faces[0].image_data_type == 0  # derived from the format when encoding
    assert parsed.faces[1:] == faces[1:]
    assert parsed.faces[0] == FaceImage(jpeg(), "jpeg", 24, 32, gender=2, image_data_type=0)


def test_several_faces_in_one_record() -> None:
    a, b = jpeg(), jpeg(8, 8)
    one = record_19794(a)
    two = record_19794(b)
    # merge: header with count 2, then both facial record blocks
    blocks = one[14:] + two[14:]
    record = b"FAC\x00" + b"010\x00" + struct.pack(">IH", 14 + len(blocks), 2) + blocks
    parsed = dg2.parse(wrap(tlv.encode(0x7F60, BHT_19794 + tlv.encode(0x5F2E, record))))
    assert [f.image for f in parsed.faces] == [a, b]


def test_image_format_from_magic_and_fallback() -> None:
    assert detect_image_format(jpeg()) == "jpeg"
    assert detect_image_format(jpeg2000()) == "jpeg2000"
    assert detect_image_format(jpeg2000(codestream=True)) == "jpeg2000"
    assert detect_image_format(b"GIF89a") is None
    # unknown magic: the declared image data type decides
    odd = FaceImage(b"\x01\x02\x03", "jpeg2000", 1, 1, image_data_type=1)
    assert dg2.parse(dg2.encode(DG2((odd,)))).faces[0] == odd
    # magic wins over a wrong declaration
    lying = FaceImage(jpeg(), "jpeg", 24, 32, image_data_type=1)
    assert dg2.parse(dg2.encode(DG2((lying,)))).faces[0].image_format == "jpeg"
    # neither: error
    unknown = FaceImage(b"\x01\x02\x03", "jpeg", 1, 1, image_data_type=7)
    with pytest.raises(LDSParseError, match="neither JPEG"):
        dg2.parse(dg2.encode(DG2((unknown,))))


def test_jpeg_decodes_after_round_trip() -> None:
    image = jpeg(48, 64)
    parsed = dg2.parse(dg2.encode(DG2((FaceImage(image, "jpeg", 48, 64),))))
    assert Image.open(io.BytesIO(parsed.image or b"")).size == (48, 64)


def _block_39794(image: bytes, merged: bool = False) -> bytes:
    """A 39794-5 FaceImageDataBlock written tag by tag from the published schema."""
    info = (
        tlv.encode(0xA0, bytes.fromhex("800102"))  # imageDataFormat: JPEG
        + tlv.encode(0xA1, bytes.fromhex("800100"))  # faceImageKind2D: MRTD
        + tlv.encode(0xA7, bytes.fromhex("800200F081020140"))  # imageSizeBlock 240×320
        + tlv.encode(0xA9, bytes.fromhex("800102"))  # imageColourSpace: RGB 24 bit
    )
    rep2d = tlv.encode(0x80, image) + tlv.encode(0xA1, info)
    representation = tlv.encode(
        0x30,
        bytes.fromhex("800100")  # representationId 0
        + tlv.encode(0xA1, tlv.encode(0xA0, tlv.encode(0xA0, rep2d)))
        + tlv.encode(0xA8, bytes.fromhex("A003800103")),  # identity metadata: gender female
    )
    version = tlv.encode(0xA0, bytes.fromhex("800103810207E3"))  # generation 3, 2019
    content = version + tlv.encode(0xA1, representation)
    if merged:
        return tlv.encode(0xA1, content)
    return tlv.encode(0xA1, tlv.encode(0x65, content))


BHT_39794 = bytes.fromhex("A11280020101810102820100870201018802002A")


@pytest.mark.parametrize("merged", [False, True])
def test_39794_by_hand(merged: bool) -> None:
    image = jpeg()
    bit = tlv.encode(0x7F60, BHT_39794 + tlv.encode(0x7F2E, _block_39794(image, merged)))
    parsed = dg2.parse(wrap(bit))
    assert parsed.encoding == "iso39794-5"
    assert parsed.faces == (
        FaceImage(image, "jpeg", 240, 320, gender=3, image_data_type=2, colour_space=2),
    )
    if not merged:
        assert dg2.encode(parsed) == wrap(bit)


def test_39794_round_trip() -> None:
    face = FaceImage(
        jpeg2000(),
        "jpeg2000",
        16,
        20,
        gender=2,
        eye_colour=4,
        hair_colour=3,
        face_image_type=1,
        image_data_type=4,
        colour_space=2,
    )
    d = DG2((face, FaceImage(jpeg(), "jpeg", 24, 32, image_data_type=2)), "iso39794-5")
    assert dg2.parse(dg2.encode(d)) == d


def test_39794_refuses_fields_it_cannot_write() -> None:
    face = FaceImage(jpeg(), "jpeg", 24, 32, pose_angle=(1, 2, 3))
    with pytest.raises(ValueError, match="pose_angle"):
        dg2.encode(DG2((face,), "iso39794-5"))


def test_19794_record_under_7f2e() -> None:
    image = jpeg()
    bit = tlv.encode(0x7F60, BHT_19794 + tlv.encode(0x7F2E, record_19794(image)))
    parsed = dg2.parse(wrap(bit))
    assert parsed.encoding == "iso19794-5"
    assert parsed.image == image


def test_large_image_is_parsed_with_one_copy() -> None:
    image = jpeg(400, 500, quality=95, noise=True)
    assert 15_000 < len(image) < 250_000
    data = dg2.encode(DG2((FaceImage(image, "jpeg", 400, 500),)))
    dg2.parse(data)  # warm up imports and caches
    tracemalloc.start()
    try:
        started = time.perf_counter()
        parsed = dg2.parse(data)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert parsed.image == image
    assert peak < 1.5 * len(data), f"peak {peak} bytes for a {len(data)}-byte file"
    assert elapsed < 0.05


@pytest.mark.parametrize(
    ("name", "mutate"),
    [
        ("wrong magic", lambda r: b"FAX\x00" + r[4:]),
        ("2011 version", lambda r: r[:4] + b"030\x00" + r[8:]),
        ("no faces", lambda r: r[:12] + b"\x00\x00" + r[14:]),
        ("block too long", lambda r: r[:14] + struct.pack(">I", 10**6) + r[18:]),
        ("block too short", lambda r: r[:14] + struct.pack(">I", 20) + r[18:]),
        ("no image", lambda r: r[:14] + struct.pack(">I", 40) + r[18:54]),
        ("truncated header", lambda r: r[:10]),
    ],
)
def test_bad_19794_records(name: str, mutate: object) -> None:
    record = record_19794(jpeg())
    bad = mutate(record)  # type: ignore[operator]
    with pytest.raises(LDSParseError):
        dg2.parse(wrap(tlv.encode(0x7F60, BHT_19794 + tlv.encode(0x5F2E, bad))))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        tlv.encode(0x75, b""),
        tlv.encode(0x75, tlv.encode(0x7F61, b"\x02\x01\x00")),  # no template
        tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x7F60, BHT_19794))),  # no data block
        tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x30, b""))),
        tlv.encode(0x76, tlv.encode(0x7F61, b"")),
        wrap(tlv.encode(0x7F60, BHT_39794 + tlv.encode(0x7F2E, tlv.encode(0xA1, b"")))),
    ],
)
def test_bad_envelopes(data: bytes) -> None:
    with pytest.raises(LDSParseError):
        dg2.parse(data)


def test_encode_rejects_out_of_range_metadata() -> None:
    with pytest.raises(ValueError):
        dg2.encode(DG2((FaceImage(jpeg(), "jpeg", 70_000, 10),)))
    with pytest.raises(ValueError):
        dg2.encode(DG2(()))
    with pytest.raises(ValueError):
        dg2.encode(DG2((FaceImage(jpeg(), "png", 1, 1),)))
