"""Write a one-layer OCI image archive from a rootfs directory, for `ctr images import`.

There is no registry and no Docker engine here, so images are written directly in the OCI
image layout (oci-layout, index.json, blobs/sha256/...) that containerd imports. The layer
is the whole rootfs as one tar; mtimes are fixed so the same rootfs gives the same digests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

# 2000-01-01T00:00:00Z: a fixed time instead of "now" keeps archives reproducible.
EPOCH = 946684800
CREATED = "2000-01-01T00:00:00Z"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
# ctr import names the image from io.containerd.image.name; other tools read ref.name.
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class ImageConfig:
    entrypoint: list[str]
    cmd: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=lambda: [PATH_ENV])
    # Numeric, so the kubelet can verify `runAsNonRoot: true` without reading /etc/passwd.
    user: str = "65532:65532"
    workdir: str = "/"
    labels: dict[str, str] = field(default_factory=dict)


def normalize(name: str) -> str:
    """The full reference containerd's CRI looks up: `redis:7` -> `docker.io/library/redis:7`."""
    first, _, rest = name.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        name = f"docker.io/{name}" if rest else f"docker.io/library/{name}"
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last or "@" in last else f"{name}:latest"


class _Hashing(io.RawIOBase):
    """A write-only stream that hashes and counts what passes through to `sink`."""

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink, self.sha, self.size = sink, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.sha.update(view)
        self.size += len(view)
        self.sink.write(view)
        return len(view)


def _reset(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = EPOCH
    # Numeric ids only: names would be looked up in the host's passwd, not the image's.
    info.uname = info.gname = ""
    return info


def write_layer(rootfs: Path, out: IO[bytes], compress: bool) -> tuple[str, str, int]:
    """Tar `rootfs` (paths relative to it) into `out`; returns (digest, diff_id, size)."""
    outer = _Hashing(out)
    zipped = gzip.GzipFile(fileobj=outer, mode="wb", compresslevel=1, mtime=0) if compress else None
    inner = _Hashing(zipped) if zipped else outer
    # Stream mode ("w|") needs no seek, so the bytes can be hashed on the way out.
    with tarfile.open(fileobj=inner, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(os.listdir(rootfs)):
            tar.add(rootfs / entry, arcname=entry, filter=_reset)
    if zipped:
        zipped.close()
    return f"sha256:{outer.sha.hexdigest()}", f"sha256:{inner.sha.hexdigest()}", outer.size


def _blob(data: bytes) -> tuple[str, bytes]:
    return f"sha256:{hashlib.sha256(data).hexdigest()}", data


def _add(tar: tarfile.TarFile, name: str, data: bytes | None = None, path: Path | None = None) -> None:
    info = tarfile.TarInfo(name)
    info.mtime, info.mode = EPOCH, 0o644
    if path is not None:
        info.size = path.stat().st_size
        with path.open("rb") as f:
            tar.addfile(info, f)
    else:
        assert data is not None
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def write_image(rootfs: Path, out: Path, names: list[str], config: ImageConfig, compress: bool = True) -> str:
    """Write the archive to `out` (atomically); returns the manifest digest."""
    out.parent.mkdir(parents=True, exist_ok=True)
    layer_path = out.with_name(out.name + ".layer.tmp")
    try:
        with layer_path.open("wb") as f:
            layer_digest, diff_id, layer_size = write_layer(rootfs, f, compress)
        cfg: dict[str, Any] = {
            "Entrypoint": config.entrypoint,
            "Env": config.env,
            "User": config.user,
            "WorkingDir": config.workdir,
        }
        if config.cmd:
            cfg["Cmd"] = config.cmd
        if config.labels:
            cfg["Labels"] = config.labels
        config_digest, config_json = _blob(
            _dumps(
                {
                    "architecture": "amd64",
                    "os": "linux",
                    "created": CREATED,
                    "config": cfg,
                    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                    "history": [{"created": CREATED, "created_by": "scripts/cluster/oci.py"}],
                }
            )
        )
        manifest_digest, manifest_json = _blob(
            _dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": MANIFEST,
                    "config": {"mediaType": CONFIG, "digest": config_digest, "size": len(config_json)},
                    "layers": [
                        {
                            "mediaType": LAYER_GZIP if compress else LAYER_TAR,
                            "digest": layer_digest,
                            "size": layer_size,
                        }
                    ],
                }
            )
        )
        # One index entry per name, all pointing at the same manifest (aliases cost nothing).
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": MANIFEST,
                    "digest": manifest_digest,
                    "size": len(manifest_json),
                    "platform": {"architecture": "amd64", "os": "linux"},
                    "annotations": {REF_NAME: normalize(n), CONTAINERD_NAME: normalize(n)},
                }
                for n in names
            ],
        }
        tmp = out.with_name(out.name + ".tmp")
        with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
            _add(tar, "oci-layout", _dumps({"imageLayoutVersion": "1.0.0"}))
            _add(tar, "index.json", _dumps(index))
            _add(tar, f"blobs/sha256/{layer_digest[7:]}", path=layer_path)
            _add(tar, f"blobs/sha256/{config_digest[7:]}", config_json)
            _add(tar, f"blobs/sha256/{manifest_digest[7:]}", manifest_json)
        tmp.replace(out)
        return manifest_digest
    finally:
        layer_path.unlink(missing_ok=True)
