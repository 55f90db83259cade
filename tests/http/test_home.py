"""What a browser finds, over real HTTP: the landing page, the API described as a page (built
here from the OpenAPI document, nothing fetched from elsewhere), the guides."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import lxml.html
import pytest
from flask import Flask

from provisioner import __version__
from tests.phones.conftest import serve


@pytest.fixture
def base_url(demo_app: Flask) -> Iterator[str]:
    url, thread, server = serve(demo_app)
    yield url
    server.shutdown()  # type: ignore[attr-defined]
    thread.join(timeout=10)


def get(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers["Content-Type"], response.read().decode("utf-8")


def links(page: str) -> list[str]:
    return [str(link) for link in lxml.html.fromstring(page).xpath("//a/@href")]


def test_the_landing_page_names_the_version_and_where_to_go(base_url: str) -> None:
    content_type, page = get(f"{base_url}/")
    assert content_type.startswith("text/html")
    assert __version__ in page
    for target in ("/t/", "/api/v1/openapi.json", "/api/v1/docs", "/docs/phones.md"):
        assert target in links(page), target
    kind, guide = get(f"{base_url}/docs/phones.md")
    assert kind.startswith("text/plain") and guide.startswith("# Provisioning phones")


def test_the_api_page_lists_every_operation_of_the_openapi_document(base_url: str) -> None:
    _, text = get(f"{base_url}/api/v1/openapi.json")
    document = json.loads(text)
    _, page = get(f"{base_url}/api/v1/docs")
    tree = lxml.html.fromstring(page)
    rows = {str(row) for row in tree.xpath("//tr/@id")}
    expected = {
        f"{method.upper()}-{path}"
        for path, item in document["paths"].items()
        for method in ("get", "post", "put", "patch", "delete")
        if method in item
    }
    assert rows == expected
    assert "schema-TenantDocument" in {str(value) for value in tree.xpath("//h3/@id")}
    # Nothing from elsewhere: no scripts, no styles or links to other hosts.
    assert not tree.xpath("//script")
    assert all(not link.startswith(("http:", "https:", "//")) for link in links(page))


def test_an_unknown_guide_is_404(base_url: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        get(f"{base_url}/docs/../README.md")
    caught.value.close()
    assert caught.value.code == 404
