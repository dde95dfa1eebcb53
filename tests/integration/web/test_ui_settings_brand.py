"""The brand page: name, postal address, colour and logo are validated, stored, audited,
and used by the pages (header, /brand.css, the logo URL), the set-password emails and the
emails the engine renders."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO

import pytest

from nurture.consent.brand import current_brand
from nurture.models import Lead, OutboxMessage
from nurture.platform.db import transaction
from nurture.rendering.context import build_context
from nurture.sending.render import BatchRenderer
from tests.integration.web.settings_support import audit_actions, post, text
from tests.integration.web.ui_support import csrf_token, signed_in_client

PAGE = "/settings/brand"


def png(width: int = 4, height: int = 2) -> bytes:
    """A valid PNG of ``width`` × ``height`` grey pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def upload(client, data: bytes, name: str = "logo.png"):  # type: ignore[no-untyped-def]
    return client.post(
        f"{PAGE}/logo",
        data={"csrf_token": csrf_token(client, PAGE), "logo": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def save(client, **fields):  # type: ignore[no-untyped-def]
    values = {"company_name": "", "postal_address": "", "primary_colour": "", **fields}
    return post(client, PAGE, values, page=PAGE)


def test_the_brand_name_and_colour_appear_on_every_page_and_changes_are_audited(app):
    admin = signed_in_client(app, "admin")
    assert "Brightpath Analytics" in text(admin.get("/settings"))
    assert "brand.css" not in text(admin.get("/settings"))

    response = save(
        admin,
        company_name="Acme Rockets",
        postal_address="1 Launch Pad\nMojave, CA",
        primary_colour="#0A3D62",
    )
    assert response.status_code == 302
    page = text(admin.get("/account"))
    assert '<a class="brand"' in page and "Acme Rockets</a>" in page
    assert "· Acme Rockets · Nurture</title>" in page
    css_url = page.split('href="/brand.css')[1].split('"')[0]
    css = admin.get("/brand.css" + css_url.replace("&amp;", "&"))
    assert css.mimetype == "text/css" and ":root { --brand: #0a3d62; }" in text(css)
    # The sign-in page shows the brand too (brand.css and the logo are public).
    assert "Acme Rockets" in text(app.test_client().get("/login"))
    assert app.test_client().get("/brand.css").status_code == 200

    with app.extensions["nurture"].sessions() as session:
        brand = current_brand(session, app.extensions["nurture"].settings)
    assert brand.postal_address == "1 Launch Pad\nMojave, CA" and not brand.name_is_default
    changed = [d for a, _, d in audit_actions(app, "brand.")]
    assert changed == [{"fields": ["company_name", "postal_address", "primary_colour"]}]

    # Blank goes back to the environment's default.
    save(admin, postal_address="1 Launch Pad\nMojave, CA", primary_colour="#0a3d62")
    assert "Brightpath Analytics</a>" in text(admin.get("/account"))


def test_bad_brand_values_are_refused_beside_their_field_and_nothing_is_saved(app):
    admin = signed_in_client(app, "admin")
    for fields, field_id, message in [
        ({"primary_colour": "#ffff00"}, "primary_colour", "contrast of 1.1:1"),
        ({"primary_colour": "red"}, "primary_colour", "use a colour like #0b4f6c"),
        ({"primary_colour": "#0a3d62; } body { x"}, "primary_colour", "at most 20"),
        ({"company_name": "x" * 201}, "company_name", "longer than 200"),
        ({"company_name": "A\x00B"}, "company_name", "cannot be stored"),
        ({"postal_address": "<script>alert(1)</script>" * 30}, "postal_address", "longer than 500"),
    ]:
        response = save(admin, **fields)
        assert response.status_code == 422, fields
        assert f'id="{field_id}-error"' in text(response), fields
        assert message in text(response), fields
        assert "<script>alert(1)" not in text(response)
    assert audit_actions(app, "brand.") == []
    assert "brand.css" not in text(admin.get("/settings"))


def test_a_png_logo_is_served_from_the_app_and_shown_in_the_header(app):
    admin = signed_in_client(app, "admin")
    image = png()
    assert upload(admin, image, "whatever.gif").status_code == 302
    page = text(admin.get("/settings"))
    src = page.split('<img class="brand-logo" src="')[1].split('"')[0].replace("&amp;", "&")
    response = app.test_client().get(src)
    assert response.status_code == 200 and response.data == image
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "immutable" in response.headers["Cache-Control"]
    assert [a for a, _, _ in audit_actions(app, "brand.")] == ["brand.logo_set"]

    assert post(admin, f"{PAGE}/logo/remove", page=PAGE).status_code == 302
    assert "brand-logo" not in text(admin.get("/settings"))
    assert app.test_client().get("/brand/logo").status_code == 404


def test_hostile_logo_files_are_refused_by_their_content(app):
    admin = signed_in_client(app, "admin")
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    cases = [
        (svg, "logo.png", "SVG logos are not accepted"),
        (b"<svg><script>alert(1)</script></svg>", "logo.svg", "SVG logos are not accepted"),
        (b"<html><script>alert(1)</script></html>", "logo.png", "not a PNG or JPEG"),
        (b"GIF89a" + b"\x00" * 50, "logo.gif", "not a PNG or JPEG"),
        (png()[:40], "cut.png", "damaged or incomplete"),
        (png(5000, 1), "wide.png", "at most 4000 pixels"),
        (png() + b"\x00" * (200 * 1024), "big.png", "larger than 200 KB"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "x.jpg", "damaged or incomplete"),
        (b"", "empty.png", "the file is empty"),
    ]
    for data, name, message in cases:
        response = upload(admin, data, name)
        assert response.status_code == 422, name
        assert message in text(response), (name, text(response)[-1500:])
        assert 'id="logo-error"' in text(response)
    assert audit_actions(app, "brand.") == []
    assert app.test_client().get("/brand/logo").status_code == 404


def test_the_brand_reaches_the_set_password_email_and_the_email_footer(app, settings):
    admin = signed_in_client(app, "admin")
    save(admin, company_name="Acme Rockets", postal_address="1 Launch Pad, Mojave")
    post(admin, "/settings/users", {"email": "kim@acme.example", "name": "", "role": "viewer"})
    with app.extensions["nurture"].sessions() as session:
        [stored] = session.query(OutboxMessage).all()
        assert stored.subject == "Your Acme Rockets account"
        assert b"Subject: Your Acme Rockets account" in stored.raw

    # The engine's renderer reads the brand for every batch.
    runtime = app.extensions["nurture"]
    renderer = BatchRenderer(runtime, None, None, envelope_address="x@y", mail_domain="y")  # type: ignore[arg-type]
    branded = renderer.refresh_brand()
    with transaction(runtime.sessions) as session:
        lead = Lead(email="ann@acme.example", consent_status="granted")
        session.add(lead)
        session.flush()
        urls = {"unsubscribe_url": "u", "preferences_url": "p", "open_pixel_url": "o"}
        sender = build_context(lead, urls=urls, settings=branded)["sender"]
    assert (sender.company_name, sender.postal_address) == ("Acme Rockets", "1 Launch Pad, Mojave")


class TestWithoutABrand:
    """A fresh instance: no company name or postal address anywhere."""

    @pytest.fixture
    def settings(self, settings):  # type: ignore[no-untyped-def]
        return settings.with_overrides(company_name="", postal_address="")

    def test_the_pages_say_nurture_and_the_brand_page_asks_for_both(self, app):
        admin = signed_in_client(app, "admin")
        page = text(admin.get(PAGE))
        assert "Nurture</a>" in page and " ·  · " not in page
        assert "Needed before campaigns can send: every email says who sends it" in page
        assert "the law asks for it in every email" in page and "s footer (NURTURE_POSTAL" in page
