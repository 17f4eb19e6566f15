"""End to end: assetbuild install, a real nginx, a real headless Chromium."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from typing import Any

import pytest

from tests.helpers.e2e import Server, Site, fetch

pytestmark = pytest.mark.e2e

MARKER_TIMEOUT = 10.0
IMMUTABLE = "public, max-age=31536000, immutable"
BUNDLES = ("js/main.js", "css/main.css")


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def marker(browser: Any) -> str | None:
    value = browser.execute_script(
        "return document.documentElement.getAttribute('data-assetbuild');"
    )
    return None if value is None else str(value)


def wait_for_marker(browser: Any, expected: str) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(browser, MARKER_TIMEOUT).until(lambda d: marker(d) == expected)
    except TimeoutException:
        logs = browser.get_log("browser")
        pytest.fail(f"marker stayed {marker(browser)!r}, wanted {expected!r}; browser log: {logs}")


def computed(browser: Any, element_id: str, prop: str) -> str:
    script = "return getComputedStyle(document.getElementById(arguments[0]))[arguments[1]];"
    return str(browser.execute_script(script, element_id, prop))


def load(browser: Any, url: str) -> list[dict[str, Any]]:
    """Open url and return the browser console entries it produced."""
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(url)
    state = browser.execute_script("return document.readyState;")
    assert state == "complete"
    entries: list[dict[str, Any]] = browser.get_log("browser")
    return entries


def page_elements(browser: Any) -> dict[str, dict[str, str | None]]:
    """src/href, integrity and crossorigin of the page's script and stylesheet elements."""
    script = """
        const out = {};
        for (const el of document.querySelectorAll('script[src], link[rel=stylesheet]')) {
            const kind = el.tagName === 'SCRIPT' ? 'js' : 'css';
            out[kind] = {
                url: el.getAttribute(kind === 'js' ? 'src' : 'href'),
                integrity: el.getAttribute('integrity'),
                crossorigin: el.getAttribute('crossorigin'),
            };
        }
        return out;
    """
    found: dict[str, dict[str, str | None]] = browser.execute_script(script)
    return found


# 1. the bundles run and apply -------------------------------------------------------------------


def test_js_runs_and_css_applies(site: Site, server: Server, browser: Any) -> None:
    site.install()
    load(browser, server.url("/"))
    wait_for_marker(browser, "v1")
    text = browser.execute_script(
        "return document.getElementById('assetbuild-marker').textContent;"
    )
    assert text == "bundle ran: v1"
    # 20-probe.css comes after 10-base.css in the bundle, so its colour wins.
    assert computed(browser, "probe", "color") == "rgb(1, 2, 3)"
    assert computed(browser, "probe", "borderLeftColor") == "rgb(4, 5, 6)"


# 2. subresource integrity -----------------------------------------------------------------------


def test_page_carries_integrity_matching_the_served_bytes(
    site: Site, server: Server, browser: Any
) -> None:
    from assetbuild.manifest import Manifest

    site.install()
    load(browser, server.url("/"))
    wait_for_marker(browser, "v1")
    elements = page_elements(browser)
    manifest = Manifest.load(site.manifest_path)
    data = site.manifest()
    for kind, name in (("js", "js/main.js"), ("css", "css/main.css")):
        element = elements[kind]
        assert element["url"] == manifest.url(name) == data["bundles"][name]["url"]
        assert element["crossorigin"] == "anonymous"
        served = fetch(server.url(str(element["url"])))
        assert served.status == 200
        assert served.body == site.bundle_file(name).read_bytes()
        assert element["integrity"] == data["bundles"][name]["integrity"] == sri(served.body)


def _tamper(site: Site, name: str, change: bytes) -> bytes:
    """Change an installed bundle after the manifest was written (and its .gz, which nginx prefers)."""
    path = site.bundle_file(name)
    tampered = path.read_bytes() + change
    path.write_bytes(tampered)
    for variant in site.manifest()["bundles"][name].get("variants", {}):
        if variant == "gz":
            site.bundle_file(name, "gz").write_bytes(gzip.compress(tampered, mtime=0))
    return tampered


def _integrity_errors(entries: list[dict[str, Any]]) -> list[str]:
    messages = [str(e.get("message", "")) for e in entries]
    return [m for m in messages if re.search(r"integrity|digest", m, re.IGNORECASE)]


def test_tampered_js_is_refused(site: Site, server: Server, browser: Any) -> None:
    site.install()
    tampered = _tamper(site, "js/main.js", b'\nwindow.E2E.version = "tampered";\n')
    # The server really serves the changed bytes: only the browser's integrity check stops them.
    url = site.manifest()["bundles"]["js/main.js"]["url"]
    assert fetch(server.url(url)).body == tampered
    assert gzip.decompress(fetch(server.url(url), gzip=True).body) == tampered
    entries = load(browser, server.url("/"))
    assert marker(browser) is None
    assert browser.execute_script("return document.getElementById('assetbuild-marker');") is None
    assert _integrity_errors(entries), entries


def test_tampered_css_is_refused(site: Site, server: Server, browser: Any) -> None:
    site.install()
    _tamper(site, "css/main.css", b"\n#probe{color:rgb(9,9,9)}\n")
    entries = load(browser, server.url("/"))
    wait_for_marker(browser, "v1")  # the untouched JS bundle still runs
    color = computed(browser, "probe", "color")
    assert color not in ("rgb(9, 9, 9)", "rgb(1, 2, 3)")
    assert _integrity_errors(entries), entries


# 3. a new version, and the old URL keeps serving -----------------------------------------------


def test_edit_installs_new_version_and_old_url_keeps_serving(
    site: Site, server: Server, browser: Any
) -> None:
    site.install()
    first = site.manifest()["bundles"]["js/main.js"]
    old_plain = site.bundle_file("js/main.js").read_bytes()
    old_gz = site.bundle_file("js/main.js", "gz").read_bytes()
    css_before = site.manifest()["bundles"]["css/main.css"]
    load(browser, server.url("/"))
    wait_for_marker(browser, "v1")

    state = site.source("js/source/10-state.js")
    state.write_text(state.read_text(encoding="utf-8").replace('"v1"', '"v2"'), encoding="utf-8")
    site.install()

    second = site.manifest()["bundles"]["js/main.js"]
    assert second["version"] == first["version"] + 1
    assert second["path"] == f"js/{second['version']}/main.js"
    assert second["url"] == f"/static/js/{second['version']}/main.js"
    assert second["integrity"] != first["integrity"]

    page = fetch(server.url("/"))
    assert page.status == 200
    html = page.body.decode("utf-8")
    assert second["url"] in html
    assert first["url"] not in html

    load(browser, server.url("/"))
    wait_for_marker(browser, "v2")
    assert page_elements(browser)["js"]["url"] == second["url"]

    # Pages still in caches or in flight name the old URL: it must keep serving the old bytes.
    old = fetch(server.url(first["url"]))
    assert old.status == 200
    assert old.body == old_plain
    assert fetch(server.url(first["url"]), gzip=True).body == old_gz
    new = fetch(server.url(second["url"]))
    assert new.body == site.bundle_file("js/main.js").read_bytes()
    assert new.body != old_plain
    assert b'"v2"' in new.body

    # The CSS did not change: whatever the manifest names for it still serves its bytes.
    css_after = site.manifest()["bundles"]["css/main.css"]
    assert css_after["integrity"] == css_before["integrity"]
    assert fetch(server.url(css_after["url"])).body == site.bundle_file("css/main.css").read_bytes()


# 4. precompressed variants and caching headers (HTTP only) --------------------------------------


@pytest.mark.parametrize("name", BUNDLES)
def test_gzip_variant_and_far_future_caching(site: Site, server: Server, name: str) -> None:
    site.install()
    plain = site.bundle_file(name).read_bytes()
    packed = site.bundle_file(name, "gz").read_bytes()
    assert gzip.decompress(packed) == plain
    url = server.url(site.manifest()["bundles"][name]["url"])

    zipped = fetch(url, gzip=True)
    assert zipped.status == 200
    assert zipped.headers.get("content-encoding") == "gzip"
    assert zipped.body == packed  # the installed .gz itself, not compressed on the fly
    assert "accept-encoding" in zipped.headers.get("vary", "").lower()
    assert zipped.headers.get("cache-control") == IMMUTABLE

    identity = fetch(url)
    assert identity.status == 200
    assert "content-encoding" not in identity.headers
    assert identity.body == plain
    assert identity.headers.get("cache-control") == IMMUTABLE


def test_page_and_manifest_are_revalidated_and_sources_hidden(site: Site, server: Server) -> None:
    site.install()
    for page in ("/", "/index.html", "/static/manifest.json"):
        response = fetch(server.url(page))
        assert response.status == 200, page
        assert response.headers.get("cache-control") == "no-cache", page
    assert fetch(server.url("/static/js/source/10-state.js")).status == 404
    # Dot files in the static root (the content cache, the install lock) are not published either.
    (site.static / ".probe").write_text("private", encoding="utf-8")
    hidden = sorted(p for p in site.static.rglob(".*") if p.is_file())
    assert hidden
    for path in hidden:
        url = f"/static/{path.relative_to(site.static).as_posix()}"
        assert fetch(server.url(url)).status == 404, url
    html = fetch(server.url("/")).body.decode("utf-8")
    # The helpers' output is markup, not text escaped by Jinja's autoescape.
    assert "&lt;script" not in html
    assert re.search(r'<script[^>]* integrity="sha384-[A-Za-z0-9+/=]+"', html), html
    assert re.search(r'<link[^>]* integrity="sha384-[A-Za-z0-9+/=]+"', html), html


# 5. url() assets ship in the version --------------------------------------------------------------


def _png_1x1() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x01\x02\x03\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_url_assets_load_from_the_version_not_the_sources(
    site: Site, server: Server, browser: Any
) -> None:
    (site.source("css/source/img")).mkdir()
    site.source("css/source/img/dot.png").write_bytes(_png_1x1())
    site.source("css/source/30-asset.css").write_text(
        "#probe { background-image: url(img/dot.png); }\n", encoding="utf-8"
    )
    site.install()
    entry = site.manifest()["bundles"]["css/main.css"]
    assert entry["assets"] == [f"css/{entry['version']}/img/dot.png"]
    # nginx hides source/ directories: the published stylesheet must not need them.
    assert fetch(server.url("/static/css/source/img/dot.png")).status == 404
    served = fetch(server.url(f"/static/css/{entry['version']}/img/dot.png"))
    assert served.status == 200 and served.body == _png_1x1()
    load(browser, server.url("/"))
    background = computed(browser, "probe", "backgroundImage")
    assert f"/static/css/{entry['version']}/img/dot.png" in background
    width = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const url = arguments[0].slice(5, -2);  // url("...")
        const img = new Image();
        img.onload = () => done(img.naturalWidth);
        img.onerror = () => done(-1);
        img.src = url;
        """,
        background,
    )
    assert width == 1
