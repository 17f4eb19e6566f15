"""End to end through the DevTools protocol: a bundle that throws leads, through the map the browser
fetches, to the file, line and column that were written.

A real nginx serves the site; a headless Chromium loads it, spoken to over its DevTools websocket
(no webdriver). `Debugger.scriptParsed` names the bundle's `sourceMapURL`; the browser fetches that
map (`Network.loadNetworkResource`, as DevTools itself loads maps); the thrown error's top frame is
resolved through it with a decoder written here (not assetbuild's).
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.e2e import CHROMIUM, STATIC_PREFIX, Server, Site

pytestmark = pytest.mark.e2e

# Written into the site as the bundle's last file: its throw must be found again through the map.
THROWS = """/* Third file: throws, so that a map must lead back here. */
(function () {
  var reason = "through the map";
  function fail(why) {
    var mark = "😀"; if (why) { throw new Error("assetbuild e2e: " + why + mark); }
  }
  fail(reason);
})();
"""

_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _decode(segment: str) -> list[int]:
    values, acc, shift = [], 0, 0
    for char in segment:
        digit = _DIGITS.index(char)
        acc += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        values.append(-(acc >> 1) if acc & 1 else acc >> 1)
        acc, shift = 0, 0
    return values


def original_position(data: dict[str, Any], line: int, column: int) -> tuple[str, int, int]:
    """(source, 0-based line, UTF-16 column) of the last mapping at or before (line, column)."""
    state = [0, 0, 0]
    found: tuple[str, int, int] | None = None
    for number, text in enumerate(data["mappings"].split(";")):
        generated = 0
        for segment in filter(None, text.split(",")):
            values = _decode(segment)
            generated += values[0]
            if len(values) >= 4:
                state = [s + v for s, v in zip(state, values[1:4], strict=True)]
            if number == line and generated <= column:
                found = (
                    (data["sources"][state[0]], state[1], state[2]) if len(values) >= 4 else None
                )
        if number == line:
            break
    assert found is not None, f"nothing maps {line}:{column}"
    return found


def _utf16_column(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line_start = before.rfind("\n") + 1
    return before.count("\n"), len(before[line_start:].encode("utf-16-le")) // 2


@pytest.mark.parametrize("minify", [True, False])
def test_a_thrown_error_leads_through_the_browsers_map_to_its_source(
    site: Site, server: Server, tmp_path: Path, minify: bool
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} missing (bash .ci/e2e-deps.sh installs it)")
    pytest.importorskip("websocket")
    from tests.helpers.devtools import chromium_page

    site.source("js/source/30-throws.js").write_text(THROWS, "utf-8")
    site.install("--sourcemap", "linked", *(() if minify else ("--no-minify",)))
    with chromium_page(tmp_path / "profile") as page:
        for domain in ("Page", "Runtime", "Debugger", "Network"):
            page.call(f"{domain}.enable")
        page.call("Page.navigate", url=server.url("/"))
        parsed = page.wait_for(
            lambda e: (
                e["method"] == "Debugger.scriptParsed" and e["params"]["url"].endswith("/main.js")
            )
        )["params"]
        thrown = page.wait_for(lambda e: e["method"] == "Runtime.exceptionThrown")["params"]
        details = thrown["exceptionDetails"]
        frame = details["stackTrace"]["callFrames"][0]
        assert frame["scriptId"] == parsed["scriptId"], details
        assert frame["functionName"] == "fail", frame
        assert parsed["sourceMapURL"] == "main.js.map"
        map_url = urllib.parse.urljoin(parsed["url"], parsed["sourceMapURL"])
        frame_id = page.call("Page.getFrameTree")["frameTree"]["frame"]["id"]
        loaded = page.call(
            "Network.loadNetworkResource",
            frameId=frame_id,
            url=map_url,
            options={"disableCache": False, "includeCredentials": False},
        )["resource"]
        assert loaded["success"] and loaded["httpStatusCode"] == 200, loaded
        data = json.loads(page.read_stream(loaded["stream"]))

    source, line, column = original_position(data, frame["lineNumber"], frame["columnNumber"])
    written = server.url(f"{STATIC_PREFIX}/js/source/30-throws.js")
    assert urllib.parse.urljoin(map_url, source) == written
    text = data["sourcesContent"][data["sources"].index(source)]
    assert text == THROWS
    # V8 places an Error's frame at its `new`: the map leads to that very token as written.
    assert (line, column) == _utf16_column(THROWS, THROWS.index("new Error")), (line, column)
    assert "assetbuild e2e: through the map😀" in details["exception"].get("description", "")
