"""End to end from object storage: `install --target s3://...` into moto's S3 server, and a headless
Chromium loading a page served from the same endpoint (same origin), with SRI, and a precompressed
variant served with its `Content-Encoding`."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_e2e import computed, load, wait_for_marker
from tests.helpers import s3
from tests.helpers.e2e import COMMAND_TIMEOUT, SITE_TEMPLATE, assetbuild_command

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(s3.available() is not None, reason=str(s3.available())),
]


@pytest.fixture(scope="module")
def s3_server() -> Iterator[s3.S3Server]:
    srv = s3.S3Server()
    yield srv
    srv.stop()


def test_a_page_served_from_the_bucket_runs_its_bundles_with_sri_and_encodings(
    tmp_path: Path, s3_server: s3.S3Server, browser: Any
) -> None:
    from assetbuild.manifest import Manifest

    bucket = s3_server.bucket()
    client = s3_server.client()
    # Readable by anyone, as a bucket behind a CDN (or a website bucket) is.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    base = f"{s3_server.endpoint}/{bucket}/site"
    root = tmp_path / "site"
    shutil.copytree(SITE_TEMPLATE, root)
    static = root / "static"
    done = subprocess.run(
        [
            *assetbuild_command(),
            "install",
            "--target",
            f"s3://{bucket}/site",
            "--static-url",
            base,
            "--compress",
            "gzip",
        ],
        cwd=static,
        env=s3_server.env(),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    manifest = Manifest.load(static / "manifest.json")
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>s3</title>'
        f'<link rel="icon" href="data:,">{manifest.tag("css/main.css")}</head><body>'
        f'<p id="probe">styled by the CSS bundle</p>{manifest.tag("js/main.js")}</body></html>'
    )
    client.put_object(
        Bucket=bucket, Key="site/index.html", Body=page.encode(), ContentType="text/html"
    )
    entries = load(browser, f"{base}/index.html")
    wait_for_marker(browser, "v1")
    assert computed(browser, "probe", "color") == "rgb(1, 2, 3)"
    assert not [e for e in entries if e.get("level") == "SEVERE"], entries
    entry = manifest.data["bundles"]["js/main.js"]
    variant = f"{base}/{entry['variants']['gz']['path']}"
    # The .gz key is served with Content-Encoding: gzip, so the browser decodes it, and the
    # bundle's integrity holds for the decoded bytes; a wrong encoding fails the fetch.
    script = """
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {integrity: arguments[1], mode: 'cors'})
            .then(r => r.text().then(t => done([r.status, r.headers.get('content-type'), t.length])))
            .catch(e => done(['error', String(e), 0]));
    """
    status, content_type, length = browser.execute_async_script(script, variant, entry["integrity"])
    assert (status, content_type, length) == (200, "text/javascript; charset=utf-8", entry["size"])
    head = client.head_object(Bucket=bucket, Key=f"site/{entry['variants']['gz']['path']}")
    assert head["ContentEncoding"] == "gzip"
