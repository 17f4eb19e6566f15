"""Fixtures for the end-to-end tests: a copied site, a real nginx, a headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.e2e import (
    CHROMEDRIVER,
    CHROMIUM,
    CHROMIUM_FLAGS,
    PAGE_LOAD_TIMEOUT,
    SITE_TEMPLATE,
    Server,
    Site,
    find_nginx,
    start_nginx,
    stop_nginx,
)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """A fresh copy of the e2e site (sources only, nothing installed)."""
    root = tmp_path / "site"
    shutil.copytree(SITE_TEMPLATE, root)
    return Site(root)


@pytest.fixture
def server(site: Site, tmp_path: Path) -> Iterator[Server]:
    """nginx on a free loopback port serving the site; stopped in teardown."""
    nginx = find_nginx()
    if nginx is None:
        pytest.skip("nginx is not installed (bash .ci/e2e-deps.sh installs it)")
    process, running = start_nginx(nginx, tmp_path / "nginx", site.root)
    try:
        yield running
    finally:
        stop_nginx(process)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Debian Chromium per module, with a fresh profile; quit in teardown."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(f"{' and '.join(missing)} missing (bash .ci/e2e-deps.sh installs them)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tmp_path_factory.mktemp("chromium-profile")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
        driver.set_script_timeout(5)
        yield driver
    finally:
        driver.quit()
