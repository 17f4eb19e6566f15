"""The S3 target: boto3 over S3's conditional writes (`If-None-Match: *`, `If-Match: <etag>`).

Credentials, region and endpoint come from the standard AWS configuration (environment, profiles,
`AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`). boto3 is the optional extra `assetbuild[s3]`, imported
only here, only when a target is used. Every failure the store or the network reports becomes an
InstallError (exit 3) that says what to do; the SDK retries what its retry rules call retryable.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from assetbuild.errors import AssetbuildError, ConfigError, InstallError
from assetbuild.manifest import MANIFEST_MAX_BYTES
from assetbuild.remote.target import MANIFEST_TYPES, Headers, StoredObject, manifest_key
from assetbuild.remote.url import TargetURL

T = TypeVar("T")
DEFAULT_ATTEMPTS = 5  # in all, the first included
_CONFLICT_RETRIES = 5  # 409 ConditionalRequestConflict: another write of the key is in flight
_MISSING = ("404", "NoSuchKey", "NotFound")
_HINTS = {
    "NoSuchBucket": "the bucket does not exist (or not in this region/endpoint); create it first",
    "AccessDenied": "the credentials may not do this; the install needs s3:GetObject, "
    "s3:PutObject and s3:ListBucket on the bucket (prune also s3:DeleteObject)",
    "403": "access denied; the install needs s3:GetObject, s3:PutObject and s3:ListBucket",
    "InvalidAccessKeyId": "the access key is not known to this store; check the credentials",
    "SignatureDoesNotMatch": "the secret key does not match the access key",
    "SlowDown": "the store throttled the requests past the SDK's retries; run again later",
    "503": "the store was unavailable past the SDK's retries; run again later",
    "ServiceUnavailable": "the store was unavailable past the SDK's retries; run again later",
    "InternalError": "the store failed past the SDK's retries; run again later",
    "500": "the store failed past the SDK's retries; run again later",
    "Throttling": "the store throttled the requests past the SDK's retries; run again later",
    "RequestTimeout": "the store timed out; check the network and run again",
    "NotImplemented": "this store does not support conditional writes (If-None-Match / If-Match), "
    "which assetbuild needs so that no version is ever overwritten",
}


def retries(environ: Mapping[str, str], profile: Mapping[str, Any]) -> dict[str, Any]:
    """The SDK's retry settings: what the AWS configuration says (`AWS_RETRY_MODE`,
    `AWS_MAX_ATTEMPTS`, the profile's `retry_mode` / `max_attempts`), else "standard" mode with 5
    attempts in all: throttling (503 SlowDown), 5xx and dropped connections are retried with
    exponential backoff and jitter, within the SDK's retry quota; "adaptive" may be chosen too.
    Older botocore defaults to "legacy" mode, so the mode is always given."""
    mode = environ.get("AWS_RETRY_MODE") or profile.get("retry_mode") or "standard"
    if mode not in ("standard", "adaptive", "legacy"):
        raise ConfigError(
            f"retry mode {mode!r} (AWS_RETRY_MODE or the profile's retry_mode) is not one of "
            "standard, adaptive, legacy"
        )
    given = environ.get("AWS_MAX_ATTEMPTS") or profile.get("max_attempts")
    try:
        attempts = int(given) if given is not None else DEFAULT_ATTEMPTS
    except ValueError:
        attempts = 0
    if attempts < 1:
        raise ConfigError(
            f"max attempts {given!r} (AWS_MAX_ATTEMPTS or the profile's max_attempts) is not a "
            "whole number of at least 1"
        )
    # "total_max_attempts" counts the first request; the client config's "max_attempts" does not.
    return {"mode": mode, "total_max_attempts": attempts}


def _printable(text: str, limit: int = 300) -> str:
    """A store's words on one line of plain text: a hostile endpoint's control characters (a
    terminal escape, a newline forging another line) are never printed."""
    clean = "".join(c if c.isprintable() else " " for c in text)
    return clean if len(clean) <= limit else clean[:limit] + "..."


def _boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise ConfigError(
            "an s3:// target needs boto3, which is not installed: pip install 'assetbuild[s3]'"
        ) from None
    return boto3


class S3Target:
    """Objects under `s3://bucket/prefix/`, created only by conditional writes."""

    def __init__(self, url: TargetURL, client: Any, manifest_format: str = "json") -> None:
        self.url = str(url)
        self.manifest_format = manifest_format
        self.manifest_key = manifest_key(manifest_format)
        self.bucket = url.bucket
        self.prefix = url.prefix + "/" if url.prefix else ""
        self.client = client
        from botocore.exceptions import BotoCoreError, ClientError

        self._client_error = ClientError
        self._sdk_error = BotoCoreError

    @classmethod
    def connect(
        cls, url: TargetURL, environ: Mapping[str, str], manifest_format: str = "json"
    ) -> S3Target:
        boto3 = _boto3()
        import botocore.session
        from botocore.config import Config

        options: dict[str, Any] = {
            # S3-compatible stores at an IP and port (MinIO, Ceph, moto) need path-style addresses.
            "s3": {"addressing_style": "path"}
            if environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL")
            else {},
            # Checksums only where required: assetbuild sends Content-MD5 itself, which every
            # S3-compatible store checks, and verifies each upload with a HEAD.
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
            "max_pool_connections": 32,
        }
        try:
            core = botocore.session.get_session()
            options["retries"] = retries(environ, core.get_scoped_config())
            client = boto3.session.Session(botocore_session=core).client(
                "s3", config=Config(**options)
            )
        except AssetbuildError:
            raise
        except Exception as exc:  # botocore's configuration errors (a bad profile, region)
            raise InstallError(f"cannot open {url}: {exc}") from None
        return cls(url, client, manifest_format)

    # -- errors --------------------------------------------------------------------------------

    def _code(self, exc: BaseException) -> str:
        if isinstance(exc, self._client_error):
            error = exc.response.get("Error", {})
            return str(
                error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            )
        return ""

    def _call(self, what: str, key: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except self._client_error as exc:
            code = _printable(self._code(exc))
            error = exc.response.get("Error", {})
            said = _printable(str(error.get("Message") or ""))
            tries = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
            hint = _HINTS.get(code, "see the store's message")
            raise InstallError(
                f"{self.url}: cannot {what} {key}: {code}"
                + (f" ({said})" if said and said != code else "")
                + (f", {tries + 1} attempts" if isinstance(tries, int) and tries else "")
                + f"; {hint}. The manifest "
                "names only objects that were complete before this run"
            ) from None
        except self._sdk_error as exc:
            name = type(exc).__name__
            if name in ("NoCredentialsError", "PartialCredentialsError"):
                raise InstallError(
                    f"{self.url}: no AWS credentials found ({exc}); set AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, as for the aws command"
                ) from None
            raise InstallError(
                f"{self.url}: cannot {what} {key}: {_printable(str(exc))} ({name}); check the "
                "network and the "
                "endpoint (AWS_ENDPOINT_URL_S3), then run again. The manifest names only "
                "objects that were complete before this run"
            ) from None

    def _key(self, key: str) -> str:
        return self.prefix + key

    # -- the Target protocol -------------------------------------------------------------------

    def read_manifest(self) -> tuple[bytes | None, str | None]:
        def get() -> tuple[bytes | None, str | None]:
            try:
                got = self.client.get_object(Bucket=self.bucket, Key=self._key(self.manifest_key))
            except self._client_error as exc:
                if self._code(exc) in _MISSING:
                    return None, None
                raise
            if got["ContentLength"] > MANIFEST_MAX_BYTES:
                got["Body"].close()
                raise InstallError(
                    f"{self.url}/{self.manifest_key} is larger than a manifest can be"
                )
            return got["Body"].read(), got["ETag"]

        return self._call("read", self.manifest_key, get)

    def versions(self, area: str) -> list[int]:
        base = self._key(f"{area}/" if area else "")

        def listing() -> list[int]:
            found = set()
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=base, Delimiter="/"
            )
            for page in pages:
                for common in page.get("CommonPrefixes", []):
                    name = common["Prefix"][len(base) :].rstrip("/")
                    if name.isdigit() and name == str(int(name)) and int(name) > 0:
                        found.add(int(name))
            return sorted(found)

        return self._call("list", base or "/", listing)

    def create(self, key: str, data: bytes, headers: Headers) -> bool:
        extra: dict[str, Any] = {
            "ContentType": headers.content_type,
            "CacheControl": headers.cache_control,
            "ContentMD5": base64.b64encode(hashlib.md5(data).digest()).decode(),
            "Metadata": {"sha256": hashlib.sha256(data).hexdigest()},
        }
        if headers.content_encoding:
            extra["ContentEncoding"] = headers.content_encoding

        def put() -> bool:
            for attempt in range(_CONFLICT_RETRIES):
                try:
                    self.client.put_object(
                        Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*", **extra
                    )
                    return True
                except self._client_error as exc:
                    code = self._code(exc)
                    if code in ("PreconditionFailed", "412"):
                        return False
                    if code not in ("ConditionalRequestConflict", "409"):
                        raise
                    time.sleep(0.05 * 2**attempt)
            return False

        return self._call("upload", key, put)

    def fetch(self, key: str, limit: int) -> bytes | None:
        def get() -> bytes | None:
            try:
                got = self.client.get_object(
                    Bucket=self.bucket, Key=self._key(key), Range=f"bytes=0-{limit}"
                )
            except self._client_error as exc:
                if self._code(exc) in _MISSING:
                    return None
                if self._code(exc) == "InvalidRange":  # an empty object
                    return b""
                raise
            body: bytes = got["Body"].read(limit + 1)
            got["Body"].close()
            return body

        return self._call("read", key, get)

    def verify(self, key: str, data: bytes) -> bool:
        def head() -> bool:
            try:
                got = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            except self._client_error as exc:
                if self._code(exc) in _MISSING:
                    return False
                raise
            if got["ContentLength"] != len(data):
                return False
            etag = str(got.get("ETag", "")).strip('"')
            if "-" not in etag and len(etag) == 32:
                return etag == hashlib.md5(data).hexdigest()
            return bool(got.get("Metadata", {}).get("sha256") == hashlib.sha256(data).hexdigest())

        return self._call("check", key, head)

    def put_manifest(self, data: bytes, token: str | None, cache_control: str) -> bool:
        condition = {"IfMatch": token} if token else {"IfNoneMatch": "*"}

        def put() -> bool:
            try:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=self._key(self.manifest_key),
                    Body=data,
                    ContentType=MANIFEST_TYPES[self.manifest_format],
                    CacheControl=cache_control,
                    ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode(),
                    **condition,
                )
            except self._client_error as exc:
                code = self._code(exc)
                if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                    return False
                if token and code in _MISSING:  # deleted since it was read
                    return False
                raise
            return True

        return self._call("write", self.manifest_key, put)

    def objects(self, prefix: str) -> list[StoredObject]:
        def listing() -> list[StoredObject]:
            found = []
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix)
            )
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"][len(self.prefix) :]
                    found.append(StoredObject(key, item["Size"], item["LastModified"].timestamp()))
            return found

        return self._call("list", prefix or "/", listing)

    def delete(self, keys: Iterable[str]) -> None:
        batch = [{"Key": self._key(k)} for k in keys]
        for start in range(0, len(batch), 1000):
            chunk = batch[start : start + 1000]
            answer = self._call(
                "delete",
                chunk[0]["Key"],
                lambda chunk=chunk: self.client.delete_objects(  # type: ignore[misc]
                    Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True}
                ),
            )
            errors = answer.get("Errors", [])
            if errors:
                first = errors[0]
                raise InstallError(
                    f"{self.url}: cannot delete {first.get('Key')}: {first.get('Code')}: "
                    f"{first.get('Message')}"
                )
