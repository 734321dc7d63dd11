"""The one-layer OCI archives the local cluster imports into containerd (scripts/cluster/oci.py,
images.py): every digest and size matches its blob, names are the ones CRI looks up, the user
is numeric, and the same rootfs always gives the same archive."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import sys
import tarfile
from pathlib import Path

import pytest

from llmaz_serverless.toolpaths import repo_root

SCRIPTS = str(repo_root() / "scripts" / "cluster")
if SCRIPTS not in sys.path:
    sys.path.insert(0, SCRIPTS)

import images  # noqa: E402
import oci  # noqa: E402


def tiny_rootfs(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "app").write_bytes(b"#!/bin/sh\necho hi\n")
    (root / "bin" / "app").chmod(0o755)
    os.link(root / "bin" / "app", root / "bin" / "app-again")
    (root / "bin" / "sh").symlink_to("app")
    (root / "tmp").mkdir()
    (root / "tmp").chmod(0o1777)
    (root / "data").mkdir()
    if os.geteuid() == 0:
        os.chown(root / "data", 65532, 65532)
    return root


def read_archive(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def blob(files: dict[str, bytes], digest: str) -> bytes:
    data = files[f"blobs/sha256/{digest.removeprefix('sha256:')}"]
    assert "sha256:" + hashlib.sha256(data).hexdigest() == digest
    return data


def sample_config() -> oci.ImageConfig:
    return oci.ImageConfig(
        entrypoint=["/bin/app"],
        cmd=["--help"],
        env=["A=1"],
        user="10001:10001",
        workdir="/tmp",
        labels={"x": "y"},
    )


def write(
    tmp_path: Path, compress: bool = True, names: list[str] | None = None
) -> tuple[str, dict[str, bytes]]:
    cfg = sample_config()
    out = tmp_path / "image.tar"
    digest = oci.write_image(tiny_rootfs(tmp_path / "rootfs"), out, names or ["redis:7"], cfg, compress)
    return digest, read_archive(out)


@pytest.mark.parametrize("compress", [True, False])
def test_every_descriptor_matches_its_blob_and_the_config_describes_the_image(tmp_path: Path, compress: bool):
    digest, files = write(tmp_path, compress, names=["redis:7", "localhost/llmaz-serverless/redis:7.0"])
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(files["index.json"])
    assert [m["annotations"][oci.CONTAINERD_NAME] for m in index["manifests"]] == [
        "docker.io/library/redis:7",
        "localhost/llmaz-serverless/redis:7.0",
    ]
    for desc in index["manifests"]:
        assert desc["annotations"][oci.REF_NAME] == desc["annotations"][oci.CONTAINERD_NAME]
        assert desc["digest"] == digest
        assert desc["size"] == len(blob(files, desc["digest"]))
        assert desc["platform"] == {"architecture": "amd64", "os": "linux"}
    manifest = json.loads(blob(files, digest))
    config_bytes = blob(files, manifest["config"]["digest"])
    assert manifest["config"]["size"] == len(config_bytes)
    (layer_desc,) = manifest["layers"]
    layer = blob(files, layer_desc["digest"])
    assert layer_desc["size"] == len(layer)
    assert layer_desc["mediaType"] == (oci.LAYER_GZIP if compress else oci.LAYER_TAR)
    raw = gzip.decompress(layer) if compress else layer
    config = json.loads(config_bytes)
    assert config["rootfs"] == {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}
    assert config["config"] == {
        "Entrypoint": ["/bin/app"],
        "Cmd": ["--help"],
        "Env": ["A=1"],
        "User": "10001:10001",
        "WorkingDir": "/tmp",
        "Labels": {"x": "y"},
    }
    assert (config["os"], config["architecture"]) == ("linux", "amd64")


def test_the_layer_keeps_modes_links_and_numeric_owners_with_fixed_mtimes(tmp_path: Path):
    _, files = write(tmp_path)
    index = json.loads(files["index.json"])
    manifest = json.loads(blob(files, index["manifests"][0]["digest"]))
    layer = blob(files, manifest["layers"][0]["digest"])
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert sorted(members) == ["bin", "bin/app", "bin/app-again", "bin/sh", "data", "tmp"]
    assert stat.S_IMODE(members["bin/app"].mode) == 0o755
    assert stat.S_IMODE(members["tmp"].mode) == 0o1777
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "app"
    assert members["bin/app-again"].islnk() and members["bin/app-again"].linkname == "bin/app"
    assert {m.mtime for m in members.values()} == {oci.EPOCH}
    assert {m.uname for m in members.values()} == {""}
    if os.geteuid() == 0:
        assert (members["data"].uid, members["data"].gid) == (65532, 65532)


def test_the_same_rootfs_gives_the_same_archive_whatever_its_mtimes(tmp_path: Path):
    first, _ = write(tmp_path / "a")
    root = tmp_path / "b"
    tiny_rootfs(root / "rootfs")
    os.utime(root / "rootfs" / "bin" / "app", (1, 1))
    cfg = sample_config()
    assert oci.write_image(root / "rootfs", root / "image.tar", ["redis:7"], cfg) == first
    assert (root / "image.tar").read_bytes() == (tmp_path / "a" / "image.tar").read_bytes()


@pytest.mark.parametrize(
    ("name", "full"),
    [
        ("llmaz-serverless:e2e", "docker.io/library/llmaz-serverless:e2e"),
        ("inftyai/llmaz:v0.1.0", "docker.io/inftyai/llmaz:v0.1.0"),
        ("ghcr.io/kedacore/keda:2.20.2", "ghcr.io/kedacore/keda:2.20.2"),
        ("localhost/llmaz-serverless/redis:7.0-debian12", "localhost/llmaz-serverless/redis:7.0-debian12"),
        ("localhost:5000/x", "localhost:5000/x:latest"),
        ("busybox", "docker.io/library/busybox:latest"),
    ],
)
def test_names_are_normalized_as_cri_looks_them_up(name: str, full: str):
    assert oci.normalize(name) == full


def test_every_image_in_pins_has_a_builder_a_unique_archive_and_a_numeric_user():
    pins = images.load_pins()
    specs = images.specs()
    assert {"pause", "llmaz-serverless", "redis", "prometheus", "keda", "lws", "llmaz"} <= set(specs)
    archives = [images.tar_path(s) for s in specs.values()]
    assert len(set(archives)) == len(archives)
    for key, spec in specs.items():
        assert spec["source"] in images.BUILDERS, key
        if spec["source"] == "go":
            # The binary build.py writes for that component under that name.
            pin = pins[spec["component"]]
            built = {pin.get("binary_names", {}).get(p) or Path(p).name for p in pin["packages"]}
            assert spec["binary"] in built, key
            assert spec["entrypoint"][0] == spec["path"], key
    assert images.specs()["pause"]["aliases"] == ["registry.k8s.io/pause:3.10.1"]


@pytest.mark.skipif(os.geteuid() != 0, reason="chowns files to the image's users")
@pytest.mark.parametrize(
    ("key", "user", "workdir"), [("keda", "65532:65532", "/"), ("prometheus", "65534:65534", "/prometheus")]
)
def test_a_go_image_rootfs_is_distroless_like(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, user: str, workdir: str
):
    binary = tmp_path / "binary"
    binary.write_bytes(b"\x7fELF fake")
    monkeypatch.setattr(images, "go_inputs", lambda spec: (binary, []))
    spec = images.specs()[key]
    root = tmp_path / "rootfs"
    root.mkdir()
    cfg = images.build_go(spec, root, tmp_path / "log")
    assert (cfg.user, cfg.workdir) == (user, workdir)
    assert cfg.entrypoint[0] == spec["path"]
    installed = root / spec["path"].lstrip("/")
    assert installed.read_bytes() == binary.read_bytes()
    assert os.access(installed, os.X_OK)
    assert "nonroot:x:65532:65532:" in (root / "etc/passwd").read_text()
    assert stat.S_IMODE((root / "tmp").stat().st_mode) == 0o1777
    assert (root / "etc/ssl/certs/ca-certificates.crt").stat().st_size > 0
    if workdir != "/":
        assert (root / workdir.lstrip("/")).stat().st_uid == int(user.split(":")[0])


def test_user_names_resolve_to_numbers_from_the_image_passwd(tmp_path: Path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text(
        "root:x:0:0::/root:/bin/sh\nredis:x:101:104::/var/lib/redis:/usr/sbin/nologin\n"
    )
    assert images.numeric_user(tmp_path, "redis") == "101:104"
    assert images.numeric_user(tmp_path, "65534:65534") == "65534:65534"
    with pytest.raises(SystemExit):
        images.numeric_user(tmp_path, "nobody")


def test_mounts_under_a_directory_are_seen_before_it_is_removed(tmp_path: Path):
    assert images.mounted_under(tmp_path) == []
    assert "/proc" in images.mounted_under(Path("/"))
