"""Optional API-key auth: `Authorization: Bearer <key>` checked against keys from a Secret.

Keys come from a file (one per line, mounted from a Kubernetes Secret, re-read
when its mtime changes so a rotated Secret applies without a restart) and/or
an env var of comma-separated keys. Only SHA-256 digests are kept in memory
and compared, so the comparison time does not depend on how much of a key matched.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path

from aiohttp import web

from llmaz_serverless.gateway.errors import openai_error
from llmaz_serverless.gateway.settings import AuthSettings

log = logging.getLogger("llmaz_serverless.gateway.auth")

# Re-check the keys file at most this often (a stat per request would be wasted work).
_RELOAD_CHECK_SECONDS = 2.0


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def parse_keys(text: str) -> list[str]:
    keys = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            keys.append(line)
    return keys


class ApiKeyAuth:
    def __init__(self, settings: AuthSettings, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.enabled = settings.enabled
        environ = os.environ if environ is None else environ
        self._env_keys = {
            _digest(k.strip()) for k in environ.get(settings.keys_env, "").split(",") if k.strip()
        }
        self._file = Path(settings.keys_file) if settings.keys_file else None
        self._file_keys: set[bytes] = set()
        self._file_mtime: float | None = None
        self._checked_at = 0.0
        if self.enabled:
            self._reload(force=True)
            if not self._env_keys and not self._file_keys:
                raise ValueError(
                    "gateway.auth.enabled is true but no API keys were found: set gateway.auth.keysFile "
                    f"to a file with one key per line (now {settings.keys_file!r}) or put comma-separated "
                    f"keys in the env var {settings.keys_env}"
                )

    def _reload(self, force: bool = False) -> None:
        if self._file is None:
            return
        now = time.monotonic()
        if not force and now - self._checked_at < _RELOAD_CHECK_SECONDS:
            return
        self._checked_at = now
        try:
            mtime = self._file.stat().st_mtime
            if not force and mtime == self._file_mtime:
                return
            keys = parse_keys(self._file.read_text(encoding="utf-8"))
        except OSError as err:
            if force:
                raise ValueError(f"gateway.auth.keysFile: cannot read {self._file}: {err}") from err
            log.warning("keeping the previous API keys: cannot read %s: %s", self._file, err)
            return
        self._file_keys = {_digest(k) for k in keys}
        self._file_mtime = mtime

    def key_of(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def check(self, request: web.Request) -> web.Response | None:
        """None when the request may pass, else the 401 to answer with."""
        if not self.enabled:
            return None
        key = self.key_of(request)
        if key is None:
            return openai_error(
                401,
                "Missing API key: send it as 'Authorization: Bearer <key>'.",
                code="missing_api_key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        self._reload()
        digest = _digest(key)
        if digest in self._file_keys or digest in self._env_keys:
            return None
        return openai_error(
            401, "Incorrect API key provided.", code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"}
        )
