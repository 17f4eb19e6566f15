"""An S3 server over real HTTP for the s3 target's tests and benchmarks: moto's server mode.

`S3Server` runs moto's `ThreadedMotoServer` on a free loopback port in this process; the installers
(this process's boto3, or `assetbuild` subprocesses) reach it over HTTP through `AWS_ENDPOINT_URL`,
with fake credentials, no profile and no config file (`env`), so nothing leaves the machine.

moto checks `If-None-Match` / `If-Match` and then stores the object in two steps, where S3 does both
at once; `S3Server` makes moto's check-and-store atomic (one lock around PutObject), as S3's is, so
the concurrency tests judge assetbuild, not a race inside the mock.

Buckets are made with versioning on: every write of a key keeps a version, so `overwritten()`
proves that no versioned object was ever written twice (the manifest is the one key replaced).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL_S3")


def available() -> str | None:
    """Why the S3 tests cannot run here, or None."""
    try:
        import boto3  # noqa: F401
        from moto.server import ThreadedMotoServer  # noqa: F401
    except ImportError as exc:
        return f"boto3 and moto[server] are needed: {exc}"
    return None


_put_lock = threading.Lock()


def _atomic_puts() -> None:
    from moto.s3.responses import S3Response

    original = S3Response.put_object
    if getattr(original, "_assetbuild_atomic", False):
        return

    @functools.wraps(original)
    def put_object(self: Any) -> Any:
        with _put_lock:
            return original(self)

    put_object._assetbuild_atomic = True  # type: ignore[attr-defined]
    S3Response.put_object = put_object  # type: ignore[method-assign]


class S3Server:
    """moto's S3 over HTTP on 127.0.0.1, started and stopped by its user."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        _atomic_puts()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment for a client of this server (fake credentials, no AWS files)."""
        env = dict(os.environ if base is None else base)
        for name in _UNSET:
            env.pop(name, None)
        env.update(FAKE_ENV)
        env["AWS_ENDPOINT_URL"] = self.endpoint
        return env

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        ).client(
            "s3",
            endpoint_url=self.endpoint,
            config=Config(s3={"addressing_style": "path"}),
        )

    def bucket(self, versioning: bool = True) -> str:
        """A new, empty bucket (versioned: every write of a key is kept)."""
        name = f"assets-{uuid.uuid4().hex[:12]}"
        client = self.client()
        client.create_bucket(Bucket=name)
        if versioning:
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def stop(self) -> None:
        self.server.stop()


def object_versions(client: Any, bucket: str) -> Iterator[tuple[str, str]]:
    """(key, version id) of every version of every object."""
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for item in page.get("Versions", []):
            yield item["Key"], item["VersionId"]


def overwritten(
    client: Any, bucket: str, mutable: tuple[str, ...] = ("manifest.json",)
) -> list[str]:
    """Keys written more than once, except the manifest (whose name ends one of `mutable`)."""
    seen: dict[str, int] = {}
    for key, _ in object_versions(client, bucket):
        seen[key] = seen.get(key, 0) + 1
    return sorted(k for k, n in seen.items() if n > 1 and not k.endswith(mutable))


def keys(client: Any, bucket: str) -> list[str]:
    found: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        found.extend(item["Key"] for item in page.get("Contents", []))
    return sorted(found)


class DroppingProxy:
    """A TCP proxy on 127.0.0.1 in front of `upstream` that breaks some connections.

    Connection n (counted from 0) is broken when `drop(n)` is true: the request is forwarded, the
    server acts on it (a PUT is stored), and the client's connection is closed before the response
    reaches it: the worst kind of network error for a writer, which must retry without ever
    overwriting. Bounded: it serves until `stop()`, on loopback only.
    """

    def __init__(self, upstream: str, drop: Any) -> None:
        import socket

        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.drop = drop
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        self.dropped = 0
        self._stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        import socket

        while not self._stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            n = self.connections
            self.connections += 1
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            broken = bool(self.drop(n))
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, broken), daemon=True).start()

    def _pipe(self, src: Any, dst: Any, broken: bool) -> None:
        import socket

        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if broken:  # the server answered: the client never hears it
                    self.dropped += 1
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def stop(self) -> None:
        self._stopped.set()
        self.listener.close()


S3_ERRORS = {  # what S3 answers, by error code: status and message
    "AccessDenied": (403, "Access Denied"),
    "SlowDown": (503, "Please reduce your request rate."),
    "InternalError": (500, "We encountered an internal error. Please try again."),
    "NoSuchBucket": (404, "The specified bucket does not exist"),
}


@dataclass(frozen=True)
class Fault:
    """How the proxy answers one request: an S3 error (`code`, from S3_ERRORS) or "reset" (the
    connection reset, no answer). `after`: the request reaches the store first (a PUT is stored),
    then the client gets the fault: what a lost answer looks like to a writer."""

    code: str
    after: bool = False


@dataclass
class Seen:
    method: str
    key: str  # the path without the bucket: "site/js/1/main.js"
    fault: str | None  # the fault answered, or None when the store's answer was relayed


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of `upstream` (moto) that answers chosen requests itself
    with real S3 error responses (403 AccessDenied, 503 SlowDown, 500 InternalError, as S3's XML)
    or resets the connection; the others go to the store and its answers come back unchanged.

    `rule(method, key, n)` picks the fault for the n-th request (from 0) of that method and key,
    or None. What the proxy saw is in `seen`. Loopback only; it serves until `stop()`.
    """

    def __init__(self, upstream: str, rule: Callable[[str, str, int], Fault | None]) -> None:
        import http.server

        self.upstream = upstream.removeprefix("http://")
        self.rule = rule
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's pool expects

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                proxy._handle(self)

            do_PUT = do_HEAD = do_POST = do_DELETE = do_GET

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a reset connection is the point, not news

        self.server = Server(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def attempts(self, method: str, key: str) -> list[str | None]:
        """The faults (None: relayed) of each request of `method` to `key`, in order."""
        return [s.fault for s in self.seen if (s.method, s.key) == (method, key)]

    def _handle(self, h: Any) -> None:
        import http.client
        import socket
        import struct
        from urllib.parse import unquote, urlsplit

        if "chunked" in h.headers.get("Transfer-Encoding", ""):
            raise AssertionError("the SDK sent a chunked body; the proxy reads Content-Length")
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        path = unquote(urlsplit(h.path).path).lstrip("/")
        key = path.split("/", 1)[1] if "/" in path else ""
        with self._lock:
            n = len(self.attempts(h.command, key))
            fault = self.rule(h.command, key, n)
            self.seen.append(Seen(h.command, key, fault.code if fault else None))
        if fault is None or fault.after:
            conn = http.client.HTTPConnection(self.upstream, timeout=60)
            skip = {"connection", "expect", "keep-alive", "transfer-encoding"}
            headers = {k: v for k, v in h.headers.items() if k.lower() not in skip}
            conn.request(h.command, h.path, body=body or None, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
            conn.close()
            if fault is None:
                h.send_response_only(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in skip | {"content-length"}:
                        h.send_header(name, value)
                length = answer.getheader("Content-Length", "0") if h.command == "HEAD" else None
                h.send_header("Content-Length", length or str(len(data)))
                h.end_headers()
                if h.command != "HEAD":
                    h.wfile.write(data)
                return
        if fault.code == "reset":
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
            h.close_connection = True
            return
        status, message = S3_ERRORS[fault.code]
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>'
            f"{fault.code}</Code><Message>{message}</Message><RequestId>4442587FB7D0A2F9"
            "</RequestId><HostId>proxy</HostId></Error>"
        ).encode()
        h.send_response_only(status)
        h.send_header("Content-Type", "application/xml")
        h.send_header("x-amz-request-id", "4442587FB7D0A2F9")
        h.send_header("Content-Length", "0" if h.command == "HEAD" else str(len(xml)))
        h.end_headers()
        if h.command != "HEAD":  # S3 answers a HEAD with the status alone
            h.wfile.write(xml)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
