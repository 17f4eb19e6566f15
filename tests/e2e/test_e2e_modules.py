"""End to end for ES modules (issue 15): assetbuild install, a real nginx, a real headless Chromium.

The page is rendered by the Jinja2 helpers: the import map (allowed by a Content-Security-Policy
holding only the manifest's `importmap_csp`), modulepreload links and the module entry tag.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.e2e import PAGE_TEMPLATES, REPO, STATIC_PREFIX, Server, Site, fetch

pytestmark = pytest.mark.e2e

MODULES_SITE = REPO / "fixtures" / "e2e" / "modules"
MARKER_TIMEOUT = 10.0
ENTRY = "js/app/main.js"
V1 = "greet-v1+deep,pop@2,json,lazy-tla"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """The module site (overrides conftest's `site`, so the `server` fixture serves this one)."""
    root = tmp_path / "site"
    shutil.copytree(MODULES_SITE, root)
    return Site(root)


def install(site: Site) -> dict[str, Any]:
    site.assetbuild("install", "--static-url", STATIC_PREFIX, "--compress", "gzip")
    return site.manifest()


def render(site: Site, page: str, *, preload: bool = True) -> str:
    """Render the module page through the Jinja2 helpers into the docroot; its path on the server."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from assetbuild.jinja import install_jinja

    env = Environment(loader=FileSystemLoader(PAGE_TEMPLATES), autoescape=select_autoescape())
    install_jinja(env, site.manifest_path)
    html = env.get_template("modules.html.j2").render(preload=preload)
    (site.root / page).write_text(html, encoding="utf-8")
    return "/" + page


def ran(browser: Any) -> str | None:
    value = browser.execute_script("return document.documentElement.getAttribute('data-modules');")
    return None if value is None else str(value)


def wait_until_ran(browser: Any, expected: str) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(browser, MARKER_TIMEOUT).until(lambda d: ran(d) == expected)
    except TimeoutException:
        logs = browser.get_log("browser")
        pytest.fail(f"the graph gave {ran(browser)!r}, wanted {expected!r}; browser log: {logs}")


def open_page(browser: Any, url: str) -> None:
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(url)
    assert browser.execute_script("return document.readyState;") == "complete"


def fetched_scripts(browser: Any) -> list[str]:
    """The path of every module (and JSON module) the page fetched."""
    names: list[str] = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname);"
    )
    return sorted({n for n in names if n.endswith((".js", ".json"))})


def module_paths(manifest: dict[str, Any]) -> list[str]:
    return sorted(STATIC_PREFIX + "/" + e["path"] for e in manifest["modules"].values())


def settle(browser: Any) -> None:
    """Wait until a failed graph has had time to fail (a refused module never sets the marker)."""
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1]; setTimeout(done, 1500);"
    )


def test_the_graph_runs_under_a_strict_policy(site: Site, server: Server, browser: Any) -> None:
    manifest = install(site)
    page = render(site, "index.html")
    html = (site.root / "index.html").read_text(encoding="utf-8")
    # the page holds the helpers' markup, with the import map the policy's hash allows
    assert f"'{manifest['importmap_csp']}'" in html
    assert html.count('<link rel="modulepreload"') == 4  # the static closure, JSON aside
    open_page(browser, server.url(page))
    wait_until_ran(browser, V1)
    # relative imports, the bare specifier, the dynamic import() and the JSON module all loaded
    # from the version the manifest names, and nothing else
    assert fetched_scripts(browser) == module_paths(manifest)
    assert all(p.startswith(f"{STATIC_PREFIX}/js/1/app/") for p in module_paths(manifest))
    # the inline import map was allowed by its hash: no CSP violation was logged
    errors = [e["message"] for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert errors == []


def test_a_wrong_hash_blocks_the_import_map(site: Site, server: Server, browser: Any) -> None:
    """The control for the test above: the policy really is enforced on the import map."""
    manifest = install(site)
    page = render(site, "index.html")
    html = (site.root / "index.html").read_text(encoding="utf-8")
    wrong = html.replace(manifest["importmap_csp"], "sha256-" + "A" * 43 + "=")
    (site.root / "index.html").write_text(wrong, encoding="utf-8")
    open_page(browser, server.url(page))
    settle(browser)
    assert ran(browser) is None  # "pop" has no mapping without the import map
    messages = " ".join(str(e.get("message")) for e in browser.get_log("browser"))
    assert "Content Security Policy" in messages, messages


def test_old_page_runs_the_old_version_after_an_install(
    site: Site, server: Server, browser: Any
) -> None:
    first = install(site)
    old_page = render(site, "old.html")
    old_bytes = {p: fetch(server.url(p)).body for p in module_paths(first)}

    greet = site.source("js/modules/lib/greet.js")
    greet.write_text(greet.read_text(encoding="utf-8").replace("v1", "v2"), encoding="utf-8")
    second = install(site)
    new_page = render(site, "index.html")

    entry = second["modules"][ENTRY]
    assert entry["version"] == first["modules"][ENTRY]["version"] + 1
    # the whole tree moved to the new version (relative imports resolve inside one directory)
    assert all(e["version"] == entry["version"] for e in second["modules"].values())
    assert second["importmap"]["imports"]["pop"] == f"{STATIC_PREFIX}/js/2/app/vendor/pop/index.js"

    open_page(browser, server.url(new_page))
    wait_until_ran(browser, V1.replace("v1", "v2"))
    assert fetched_scripts(browser) == module_paths(second)

    # A page rendered before the install (still in a cache, or open in a tab) runs the old graph,
    # entirely from the old version, whose files kept their bytes.
    open_page(browser, server.url(old_page))
    wait_until_ran(browser, V1)
    assert fetched_scripts(browser) == module_paths(first)
    assert not any("/js/2/" in p for p in fetched_scripts(browser))
    for path, body in old_bytes.items():
        assert fetch(server.url(path)).body == body


def _tamper(site: Site, entry: dict[str, Any], change: bytes) -> bytes:
    """Change an installed module after the manifest was written (and a .gz beside it, which
    nginx would serve instead)."""
    path = site.static / entry["path"]
    tampered = path.read_bytes() + change
    path.write_bytes(tampered)
    packed = path.with_name(path.name + ".gz")
    if packed.exists():
        packed.write_bytes(gzip.compress(tampered, mtime=0))
    return tampered


def test_a_module_reached_only_by_a_relative_import_is_checked(
    site: Site, server: Server, browser: Any
) -> None:
    manifest = install(site)
    deep = manifest["modules"]["js/app/lib/deep.js"]
    # no tag names deep.js: only greet.js's `import "./deep.js"` reaches it (no modulepreload)
    page = render(site, "index.html", preload=False)
    html = (site.root / "index.html").read_text(encoding="utf-8")
    assert html.count(deep["url"]) == 1  # in the import map's "integrity" only
    tampered = _tamper(site, deep, b'\nwindow.TAMPERED = "ran";\n')
    assert fetch(server.url(deep["url"])).body == tampered  # nginx serves the changed bytes

    # The control first: the same page with an import map without "integrity" runs the tampered
    # module, so what refuses it below is the import map's integrity (with the tampered bytes
    # already in the browser's caches).
    unchecked = {"imports": manifest["importmap"]["imports"]}
    start = html.index('<script type="importmap">')
    end = html.index("</script>", start)
    bare = html[:start] + '<script type="importmap">' + json.dumps(unchecked) + html[end:]
    bare = bare.replace('<meta http-equiv="Content-Security-Policy"', '<meta name="x-no-csp"')
    (site.root / "unchecked.html").write_text(bare, encoding="utf-8")
    open_page(browser, server.url("/unchecked.html"))
    wait_until_ran(browser, V1)
    assert browser.execute_script("return window.TAMPERED;") == "ran"

    open_page(browser, server.url(page))
    settle(browser)
    assert ran(browser) is None
    assert browser.execute_script("return window.TAMPERED;") is None
    messages = [str(e.get("message")) for e in browser.get_log("browser")]
    refused = [m for m in messages if "integrity" in m and deep["url"] in m]
    assert refused and "blocked" in refused[0], messages
