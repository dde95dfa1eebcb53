"""The brand's pure checks: colours and their contrast with white text, logos judged by
their bytes, and which suppressions an admin may lift."""

from __future__ import annotations

import struct
import zlib

import pytest

from nurture.consent.brand import (
    BrandError,
    colour_problem,
    contrast_ratio,
    parse_colour,
    sniff_logo,
)
from nurture.consent.suppression import lift_refusal


@pytest.mark.parametrize(
    ("text", "expected"),
    [("#0B4F6C", "#0b4f6c"), ("0b4f6c", "#0b4f6c"), ("  #abcdef ", "#abcdef")],
)
def test_colours_are_read_in_any_case_with_or_without_the_hash(text, expected):
    assert parse_colour(text) == expected


@pytest.mark.parametrize("text", ["red", "#fff", "#12345g", "#1234567", "", "#0b4f6c;}"])
def test_anything_but_six_hex_digits_is_not_a_colour(text):
    with pytest.raises(ValueError, match="#0b4f6c"):
        parse_colour(text)


def test_contrast_follows_wcag():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    # The app's own colour passes; a mid grey is the classic near-miss (4.48:1).
    assert colour_problem("#0b4f6c") is None
    assert colour_problem("#777777") is not None
    assert colour_problem("#767676") is None


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def _jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", height, width) + b"\x03" + b"\x00" * 9
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def test_logos_are_recognised_by_content_whatever_their_name():
    assert sniff_logo(_png(120, 40)) == "image/png"
    assert sniff_logo(_jpeg(120, 40)) == "image/jpeg"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>x()</script></svg>", "SVG"),
        (b"  <?xml version='1.0'?>\n<svg/>", "SVG"),
        (b"GIF89a....", "not a PNG or JPEG"),
        (_png(0, 10), "4000 pixels"),
        (_jpeg(10, 4001), "4000 pixels"),
        (_png(10, 10)[:-4], "damaged"),
        (_jpeg(10, 10)[:-2], "damaged"),
        (b"", "empty"),
    ],
)
def test_other_files_are_refused_with_a_reason(data, message):
    with pytest.raises(BrandError, match=message) as refused:
        sniff_logo(data)
    assert refused.value.field == "logo"


@pytest.mark.parametrize(
    ("reason", "unsubscribed", "withdrawn", "allowed"),
    [
        ("hard_bounce", False, False, True),
        ("manual", False, False, True),
        ("hard_bounce", True, False, False),  # bounced after unsubscribing: still theirs
        ("manual", False, True, False),
        ("unsubscribed", False, False, False),
        ("complaint", False, False, False),
        ("erased", False, False, False),
        ("something-new", False, False, False),
    ],
)
def test_an_admin_lifts_only_bounces_and_manual_entries(reason, unsubscribed, withdrawn, allowed):
    refusal = lift_refusal(reason, unsubscribed=unsubscribed, withdrawn=withdrawn)
    assert (refusal is None) == allowed
