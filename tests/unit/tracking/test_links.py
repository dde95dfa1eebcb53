"""Link rewriting: every http(s) link becomes a signed click URL naming only that link."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from itsdangerous import Signer, URLSafeSerializer

from nurture.rendering.compiled import RenderedEmail
from nurture.tracking.links import HONEYPOT_INDEX, LinkSigner, add_utm, host_matches, track_links

PUBLIC = "http://nurture.test"
SIGNER = LinkSigner("secret-one")

HTML_PARTS = (
    "<html><body style='x'><p>Hello ",
    "Ada",
    '</p><a href="https://brightpath.example/pricing?plan=pro&amp;x=1">Pricing</a>'
    '<a href="https://brightpath.example/demo">Demo</a>'
    '<a href="mailto:hi@brightpath.example">Mail us</a>'
    '<a href="http://nurture.test/u/abc.sig">Unsubscribe</a>'
    '<img src="http://nurture.test/t/o/abc.sig.gif"></body></html>',
)
TEXT = (
    "Pricing: https://brightpath.example/pricing?plan=pro&x=1\n"
    "See https://brightpath.example/blog. Unsubscribe: http://nurture.test/u/abc.sig\n"
)


def rendered() -> RenderedEmail:
    return RenderedEmail(
        template="t",
        version="v1",
        subject="s",
        html="".join(HTML_PARTS),
        text=TEXT,
        html_parts=HTML_PARTS,
    )


def click_payloads(text: str) -> list[str]:
    return [part.split('"')[0].split()[0].rstrip(".") for part in text.split(PUBLIC + "/t/c/")[1:]]


def test_every_web_link_becomes_a_click_url_that_names_its_destination():
    result = track_links(rendered(), token="tok", signer=SIGNER, public_url=PUBLIC)
    targets = [SIGNER.load_click(p) for p in click_payloads(result.html)]
    real = [t for t in targets if not t.is_honeypot]
    assert [t.url for t in real] == [
        "https://brightpath.example/pricing?plan=pro&x=1",
        "https://brightpath.example/demo",
    ]
    # Indexes are shared by HTML and text: the blog link only appears in the text part.
    assert {t.count for t in targets} == {3}
    text_targets = [SIGNER.load_click(p) for p in click_payloads(result.text)]
    assert [(t.index, t.url) for t in text_targets] == [
        (0, "https://brightpath.example/pricing?plan=pro&x=1"),
        (2, "https://brightpath.example/blog"),
    ]
    assert "brightpath.example/blog." not in result.text  # the full stop stayed text
    assert result.text.count(". Unsubscribe") == 1


def test_unsubscribe_pixel_and_mailto_links_are_left_alone():
    result = track_links(rendered(), token="tok", signer=SIGNER, public_url=PUBLIC)
    assert 'href="http://nurture.test/u/abc.sig"' in result.html
    assert 'src="http://nurture.test/t/o/abc.sig.gif"' in result.html
    assert 'href="mailto:hi@brightpath.example"' in result.html
    assert "Unsubscribe: http://nurture.test/u/abc.sig" in result.text


def test_a_hidden_honeypot_link_is_added_right_after_the_body_tag():
    result = track_links(rendered(), token="tok", signer=SIGNER, public_url=PUBLIC)
    body_end = result.html.index("<body style='x'>") + len("<body style='x'>")
    honeypot = result.html[body_end:]
    assert honeypot.startswith('<a href="http://nurture.test/t/c/')
    assert "display:none" in honeypot.split(">")[0]
    assert 'aria-hidden="true"' in honeypot.split(">")[0]
    payload = honeypot.split('href="http://nurture.test/t/c/')[1].split('"')[0]
    assert SIGNER.load_click(payload).index == HONEYPOT_INDEX


def test_constant_template_pieces_stay_identical_between_recipients():
    one = track_links(rendered(), token="tok-one", signer=SIGNER, public_url=PUBLIC)
    two = track_links(rendered(), token="tok-two", signer=SIGNER, public_url=PUBLIC)
    shared = set(one.html_parts) & set(two.html_parts)
    assert '</p><a href="' in shared
    assert "Ada" in shared
    assert "".join(one.html_parts) == one.html


def test_campaign_utm_parameters_are_appended_once():
    result = track_links(
        rendered(),
        token="tok",
        signer=SIGNER,
        public_url=PUBLIC,
        utm={"source": "nurture", "medium": "email", "campaign": "b2b"},
    )
    first = SIGNER.load_click(click_payloads(result.html)[1])
    query = parse_qs(urlsplit(first.url).query)
    assert query["plan"] == ["pro"]
    assert query["utm_source"] == ["nurture"]
    assert query["utm_campaign"] == ["b2b"]
    assert add_utm("https://a.example/?utm_source=x#top", {"source": "y", "medium": "m"}) == (
        "https://a.example/?utm_source=x&utm_medium=m#top"
    )


def test_tampered_truncated_and_foreign_payloads_are_refused():
    payload = SIGNER.click_payload("tok", 0, 2, "https://brightpath.example/")
    assert SIGNER.load_click(payload).url == "https://brightpath.example/"
    assert SIGNER.load_click(payload[:-3]) is None
    assert SIGNER.load_click(payload[:10]) is None
    assert SIGNER.load_click("x" + payload[1:]) is None
    assert LinkSigner("another-secret").load_click(payload) is None
    evil = LinkSigner("another-secret").click_payload("tok", 0, 2, "https://evil.example/")
    assert SIGNER.load_click(evil) is None


def test_the_identity_parameter_expires():
    now = datetime.now(UTC)
    value = SIGNER.identity("tok")
    assert SIGNER.load_identity(value, now) == "tok"
    assert SIGNER.load_identity(value, now + timedelta(hours=1)) is None
    assert SIGNER.load_identity(value + "x", now) is None


def test_site_domains_include_subdomains_only():
    assert host_matches("https://www.brightpath.example/x", ["brightpath.example"])
    assert not host_matches("https://brightpath.example.evil.test/", ["brightpath.example"])


def test_click_urls_of_the_first_format_in_emails_already_sent_still_redirect():
    # What LinkSigner.click_payload produced before the compact format.
    legacy = URLSafeSerializer("secret-one", salt="nurture.click")
    payload = legacy.dumps(["tok", 1, 3, "https://brightpath.example/pricing?plan=pro"])
    target = SIGNER.load_click(payload)
    assert (target.token, target.index, target.count, target.url) == (
        "tok",
        1,
        3,
        "https://brightpath.example/pricing?plan=pro",
    )
    assert SIGNER.load_click(legacy.dumps(["tok", HONEYPOT_INDEX, 3, ""])).is_honeypot
    forged = URLSafeSerializer("another-secret", salt="nurture.click").dumps(
        ["tok", 0, 3, "https://evil.example/"]
    )
    assert SIGNER.load_click(forged) is None
    assert SIGNER.load_click(payload[:-2]) is None


def test_a_changed_byte_anywhere_in_a_compact_click_payload_is_refused():
    payload = SIGNER.click_payload("tok", 0, 2, "https://brightpath.example/")
    assert payload.startswith("v2.")
    for position in range(len(payload)):
        for replacement in ("A", "-", "."):
            if payload[position] == replacement:
                continue
            changed = payload[:position] + replacement + payload[position + 1 :]
            target = SIGNER.load_click(changed)
            assert target is None or target == SIGNER.load_click(payload), changed
    # Another destination with the original signature: refused.
    signature = payload.rpartition(".")[2]
    other = SIGNER.click_payload("tok", 0, 2, "https://evil.example/")
    assert SIGNER.load_click(other.rpartition(".")[0] + "." + signature) is None


def test_compact_click_payloads_carry_the_signature_itsdangerous_would_make():
    payload = SIGNER.click_payload("tok", HONEYPOT_INDEX, 4, "")
    value = payload.rpartition(".")[0]
    assert Signer("secret-one", salt="nurture.click.v2").sign(value).decode() == payload
    assert SIGNER.load_click(payload).is_honeypot
