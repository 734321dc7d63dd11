"""Filesystem object store: a directory, usually a PVC shared by gateway and workers.

Writes go to a temporary file in the target directory and are then renamed
(or hard-linked, for first-writer-wins), so a reader never sees half an
object and a crashed writer leaves only a `.tmp-*` file behind.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from llmaz_serverless.results.objects import ObjectLocationError, ObjectNotFoundError, ObjectStore, Reader


class FilesystemObjectStore(ObjectStore):
    kind = "filesystem"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def uri_for(self, key: str) -> str:
        return "file://" + quote(str(self._key_path(key)))

    def _key_path(self, key: str) -> Path:
        path = (self.root / key.lstrip("/")).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ObjectLocationError(f"key {key!r} leaves the store root {self.root}")
        return path

    def _path(self, uri: str) -> Path:
        parsed = urlparse(uri)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            raise ObjectLocationError(
                f"{uri!r} is not a file:// URI; this deployment stores payloads under file://{self.root}/"
            )
        path = Path(unquote(parsed.path)).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ObjectLocationError(f"{uri!r} is outside the payload directory file://{self.root}/")
        return path

    def check_uri(self, uri: str) -> None:
        self._path(uri)

    async def _write_bytes(self, key: str, data: bytes, content_type: str, if_absent: bool) -> bool:
        return await asyncio.to_thread(self._write_file, self._key_path(key), data, if_absent)

    @staticmethod
    def _write_file(path: Path, data: bytes, if_absent: bool) -> bool:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            return _publish(Path(tmp), path, if_absent)
        finally:
            Path(tmp).unlink(missing_ok=True)

    async def _write_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> int:
        path = self._key_path(key)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        tmp = Path(tmp_name)
        size = 0
        try:
            with os.fdopen(fd, "wb") as fh:
                async for chunk in chunks:
                    size += len(chunk)
                    await asyncio.to_thread(fh.write, chunk)
            await asyncio.to_thread(_publish, tmp, path, False)
        finally:
            await asyncio.to_thread(tmp.unlink, missing_ok=True)
        return size

    async def size(self, uri: str) -> int | None:
        path = self._path(uri)
        try:
            stat = await asyncio.to_thread(path.stat)
        except FileNotFoundError:
            return None
        return stat.st_size

    async def _open(self, uri: str) -> Reader:
        path = self._path(uri)
        try:
            return await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError as err:
            raise ObjectNotFoundError(uri) from err

    async def delete(self, uri: str) -> None:
        await asyncio.to_thread(self._path(uri).unlink, missing_ok=True)


def _publish(tmp: Path, path: Path, if_absent: bool) -> bool:
    if if_absent:
        try:
            os.link(tmp, path)  # fails if an earlier attempt already stored this object
        except FileExistsError:
            return False
        return True
    os.replace(tmp, path)
    return True
