"""Which site a form post came from: origins compared as browsers write them."""

import pytest

from nurture.web.origin import from_another_site, origin_of

OWN = {"https://nurture.example.com"}


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Nurture.Example.com/handoffs/x", "https://nurture.example.com"),
        ("https://nurture.example.com:443", "https://nurture.example.com"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
        ("http://[::1]:8080/x", "http://[::1]:8080"),
        ("null", None),
        ("/handoffs/x", None),
        ("https://host:notaport", None),
        ("javascript:alert(1)", None),
    ],
)
def test_an_origin_is_scheme_host_and_a_port_other_than_the_default(url, origin):
    assert origin_of(url) == origin


@pytest.mark.parametrize(
    ("origin", "referer", "foreign"),
    [
        ("https://nurture.example.com", None, False),
        ("https://nurture.example.com:443", "https://evil.example/", False),  # Origin decides
        ("https://nurture.example.com.evil.example", None, True),
        ("http://nurture.example.com", None, True),  # another scheme is another origin
        ("null", None, True),
        (None, "https://nurture.example.com/handoffs/x/accept", False),
        (None, "https://evil.example/nurture.example.com", True),
        (None, None, False),
    ],
)
def test_a_post_is_from_another_site_when_origin_or_else_referer_names_one(
    origin, referer, foreign
):
    assert from_another_site(origin, referer, OWN) is foreign
