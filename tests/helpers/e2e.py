"""Helpers for the end-to-end tests: the site copy, the nginx instance, plain HTTP fetches."""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SITE_TEMPLATE = REPO / "fixtures" / "e2e" / "site"
PAGE_TEMPLATES = REPO / "fixtures" / "e2e" / "templates"
NGINX_TEMPLATE = REPO / "fixtures" / "nginx" / "nginx.conf.template"

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
STATIC_PREFIX = "/static"

# Every wait is bounded; these are generous for a loaded 2-core CI machine.
COMMAND_TIMEOUT = 60.0
SERVER_START_TIMEOUT = 10.0
HTTP_TIMEOUT = 5.0
PAGE_LOAD_TIMEOUT = 20.0

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=800,600",
)


def find_nginx() -> Path | None:
    """The nginx binary: PATH first, then /usr/sbin (not on a normal user's PATH)."""
    found = shutil.which("nginx")
    if found:
        return Path(found)
    sbin = Path("/usr/sbin/nginx")
    return sbin if sbin.exists() else None


def assetbuild_command() -> list[str]:
    """The installed console script next to this interpreter, as users and CI run it."""
    beside = Path(sys.executable).with_name("assetbuild")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("assetbuild")
    if found:
        return [found]
    return [sys.executable, "-m", "assetbuild"]


@dataclass(frozen=True)
class Response:
    """One HTTP response read whole."""

    status: int
    headers: dict[str, str]
    body: bytes


def fetch(url: str, *, gzip: bool = False) -> Response:
    """GET url with urllib, optionally accepting gzip; HTTP errors are responses too."""
    request = urllib.request.Request(url)
    # urllib never decompresses, so the body is the bytes on the wire.
    request.add_header("Accept-Encoding", "gzip" if gzip else "identity")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as reply:
            return Response(
                reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read()
            )
    except urllib.error.HTTPError as error:
        with error:
            headers = {k.lower(): v for k, v in error.headers.items()}
            return Response(error.code, headers, error.read())


@dataclass(frozen=True)
class Site:
    """A copy of fixtures/e2e/site in tmp_path: the docroot, with the static root under /static."""

    root: Path

    @property
    def static(self) -> Path:
        return self.root / "static"

    @property
    def manifest_path(self) -> Path:
        return self.static / "manifest.json"

    def assetbuild(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the real CLI on this site."""
        # Zero-config mode: run in the static root, where <area>/source/ directories live.
        command = [*assetbuild_command(), "-C", str(self.static), *args]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{command} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def install(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`assetbuild install` with gzip variants, then re-render the page as an app would."""
        result = self.assetbuild(
            "install", "--static-url", STATIC_PREFIX, "--compress", "gzip", *args
        )
        self.render()
        return result

    def render(self) -> Path:
        """Render templates/index.html.j2 through the manifest helpers into the docroot."""
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        from assetbuild.jinja import install_jinja

        # A fresh environment per render: an app restarts or reloads its manifest after a deploy.
        env = Environment(
            loader=FileSystemLoader(PAGE_TEMPLATES),
            autoescape=select_autoescape(default_for_string=True, default=True),
        )
        install_jinja(env, self.manifest_path)
        page = self.root / "index.html"
        page.write_text(env.get_template("index.html.j2").render(), encoding="utf-8")
        return page

    def manifest(self) -> dict[str, Any]:
        """The manifest's JSON as written (the contract the templates rely on)."""
        data: dict[str, Any] = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        return data

    def bundle_file(self, name: str, variant: str | None = None) -> Path:
        """The installed file the manifest names for a bundle (e.g. "js/main.js"), or its variant."""
        entry = self.manifest()["bundles"][name]
        if variant is not None:
            entry = entry["variants"][variant]
        return self.static / str(entry["path"])

    def source(self, relative: str) -> Path:
        """A source file, relative to the static root (e.g. "js/source/10-state.js")."""
        return self.static / relative


@dataclass(frozen=True)
class Server:
    """A running nginx serving one docroot on 127.0.0.1."""

    port: int
    prefix: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def error_log(self) -> str:
        log = self.prefix / "error.log"
        return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _user_directive() -> str:
    """As root, keep the workers as root too: tmp_path is private (0700) to the current user."""
    if os.geteuid() != 0:
        return ""  # nginx only switches users when started as root
    user = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    return f"user {user} {group};"


def write_nginx_config(prefix: Path, docroot: Path, port: int) -> Path:
    """Fill fixtures/nginx/nginx.conf.template for one server instance."""
    text = string.Template(NGINX_TEMPLATE.read_text(encoding="utf-8")).substitute(
        user_directive=_user_directive(),
        prefix=str(prefix),
        docroot=str(docroot),
        port=str(port),
        static_prefix=STATIC_PREFIX,
    )
    config = prefix / "nginx.conf"
    config.write_text(text, encoding="utf-8")
    return config


def _wait_listening(process: subprocess.Popen[bytes], port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop_nginx(process: subprocess.Popen[bytes]) -> None:
    """Stop nginx, then kill it if it lingers; bounded either way."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # fast shutdown: QUIT waits on idle keep-alives
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if process.stderr is not None:
        process.stderr.close()


def start_nginx(nginx: Path, prefix: Path, docroot: Path) -> tuple[subprocess.Popen[bytes], Server]:
    """Start nginx on a free loopback port, as the current user, with its config in prefix."""
    prefix.mkdir(parents=True, exist_ok=True)
    errors = []
    for _attempt in range(3):  # another process may take the port between probe and bind
        port = _free_port()
        config = write_nginx_config(prefix, docroot, port)
        log = prefix / "error.log"
        process = subprocess.Popen(
            [str(nginx), "-p", str(prefix), "-c", str(config), "-e", str(log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if _wait_listening(process, port, time.monotonic() + SERVER_START_TIMEOUT):
            return process, Server(port, prefix)
        stop_nginx(process)
        errors.append(log.read_text(errors="replace") if log.exists() else "(no error.log)")
    raise RuntimeError("nginx did not start:\n" + "\n".join(errors))
