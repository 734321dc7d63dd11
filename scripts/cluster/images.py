"""Build the local cluster's container images and import them into containerd.

No registry and no Docker engine: each image is a one-layer OCI archive (oci.py) written to
`<cache>/images/<name>.tar` from a rootfs made here, as listed in versions.toml [cluster.images]. A tar is
rebuilt only when the digest of its inputs (pins, binaries, sources, these scripts) changes.
The Debian bookworm base (debootstrap) and the Python image's dependencies are cached as
rootfs tarballs in `<cache>/rootfs/`, so a change in python/src only reinstalls the package.

    python3 scripts/cluster/images.py build [--skip-missing] [key ...]
    python3 scripts/cluster/images.py import --address /path/containerd.sock [key ...]
    python3 scripts/cluster/images.py list
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

from build import bin_dir, go_env, is_built  # noqa: E402
from hosttools import ensure_host_tools  # noqa: E402
from layout import cache_dir, load_pins  # noqa: E402
from oci import PATH_ENV, ImageConfig, normalize, write_image  # noqa: E402

HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
SUITE = "bookworm"
# Bump to rebuild the cached rootfs tarballs (their recipes are not hashed: rebuilding the
# Debian base takes minutes and is only needed when the recipe changes).
BASE_RECIPE = "1"
DEPS_RECIPE = "1"
CHROOT_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "DEBIAN_FRONTEND": "noninteractive",
    "PIP_NO_CACHE_DIR": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    # The host reaches PyPI through a CA only its own bundle holds.
    "PIP_CERT": "/tmp/build/ca.crt",
}
# Like distroless' static:nonroot, which the upstream Go images are built on.
PASSWD = (
    "root:x:0:0:root:/root:/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
)
GROUP = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"
APP_LABELS = {
    "org.opencontainers.image.title": "llmaz-serverless",
    "org.opencontainers.image.description": "Gateway, async worker, warmup controller and hook "
    "for serverless llmaz models on KEDA",
    "org.opencontainers.image.licenses": "Apache-2.0",
}


def images_dir() -> Path:
    return cache_dir() / "images"


def specs() -> dict[str, dict]:
    return load_pins()["images"]


def names(spec: dict) -> list[str]:
    return [spec["name"], *spec.get("aliases", [])]


def tar_path(spec: dict) -> Path:
    return images_dir() / (re.sub(r"[^A-Za-z0-9_.-]+", "_", normalize(spec["name"])) + ".tar")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def sh(argv: list[str], log: Path, **kw: object) -> None:
    with log.open("a") as sink:
        sink.write(f"$ {' '.join(argv)}\n")
        sink.flush()
        if subprocess.run(argv, stdout=sink, stderr=sink, check=False, **kw).returncode != 0:  # type: ignore[call-overload]
            raise SystemExit(f"`{' '.join(argv)}` failed; see {log}")


# --- rootfs work directories and chroots -------------------------------------------------


def mounted_under(path: Path) -> list[str]:
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4].encode().decode("unicode_escape") for line in f]
    return [p for p in points if p == real or p.startswith(real.rstrip("/") + "/")]


def remove_tree(path: Path) -> None:
    # A bind-mounted /dev left inside would have rmtree delete the host's device nodes.
    if busy := mounted_under(path):
        raise SystemExit(f"not removing {path}: still mounted: {busy}")
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def workdir(tag: str) -> Iterator[Path]:
    root = cache_dir() / "work" / tag
    if root.exists():
        remove_tree(root)
    root.mkdir(parents=True)
    try:
        yield root
    finally:
        remove_tree(root)


@contextlib.contextmanager
def chroot(root: Path, log: Path) -> Iterator[None]:
    """/proc, /dev and the host's resolv.conf inside `root`; unmounted again whatever happens."""
    mounts: list[Path] = []
    policy = root / "usr/sbin/policy-rc.d"
    try:
        for args, dst in ((["-t", "proc", "proc"], "proc"), (["--bind", "/dev"], "dev")):
            (root / dst).mkdir(exist_ok=True)
            sh(["mount", *args, str(root / dst)], log)
            mounts.append(root / dst)
        resolv = root / "etc/resolv.conf"
        resolv.unlink(missing_ok=True)
        shutil.copyfile("/etc/resolv.conf", resolv)
        # Package scripts must not start daemons (redis, prometheus) inside the chroot.
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        yield
    finally:
        for m in reversed(mounts):
            if subprocess.run(["umount", str(m)], check=False).returncode != 0:
                subprocess.run(["umount", "-l", str(m)], check=False)
        policy.unlink(missing_ok=True)
        if (root / "etc").is_dir():
            # The runtime mounts its own; an empty file keeps the host's out of the image.
            (root / "etc/resolv.conf").write_text("")


def run_in(root: Path, log: Path, *argv: str) -> None:
    sh(["chroot", str(root), *argv], log, env=CHROOT_ENV)


def tidy(root: Path) -> None:
    """Drop what images do not need: apt lists and caches, install logs, device nodes, temp files."""
    for rel in ("var/log/dpkg.log", "var/log/alternatives.log", "var/log/bootstrap.log"):
        if (root / rel).is_file():
            (root / rel).unlink()
    for rel in ("var/lib/apt/lists", "var/cache/apt", "var/log/apt", "dev", "tmp", "var/tmp", "root/.cache"):
        d = root / rel
        for child in d.iterdir() if d.is_dir() else []:
            if child.is_dir() and not child.is_symlink():
                remove_tree(child)
            else:
                child.unlink()
    for rel in ("tmp", "var/tmp"):
        (root / rel).chmod(0o1777)


def save_rootfs(root: Path, out: Path, log: Path) -> None:
    tmp = out.with_name(out.name + ".tmp")
    sh(["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-cf", str(tmp), "."], log)
    tmp.replace(out)


def load_rootfs(tarball: Path, root: Path, log: Path) -> None:
    sh(["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-xpf", str(tarball)], log)


# --- the Debian base and what is built on it -----------------------------------------------


def mirror() -> str:
    """The Debian mirror apt uses on this machine (deb822 debian.sources or sources.list)."""
    for f in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        text = f.read_text() if f.is_file() else ""
        if m := re.search(r"^URIs:\s*(\S+/debian)/?\s*$", text, re.M):
            return m.group(1)
        if m := re.search(rf"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)/?\s+{SUITE}\s", text, re.M):
            return m.group(1)
    raise SystemExit("no Debian mirror found in /etc/apt/sources.list{,.d}")


def debian_base(log: Path) -> Path:
    """Debian bookworm minbase with the host's apt sources (incl. security), as a cached tarball."""
    url = mirror()
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    key = digest(BASE_RECIPE, SUITE, url, sources.read_text() if sources.is_file() else "")
    out = cache_dir() / "rootfs" / f"debian-{SUITE}-minbase-{key}.tar"
    if out.is_file():
        return out
    ensure_host_tools("debootstrap")
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with workdir("debian-base") as root:
        sh(["debootstrap", "--variant=minbase", SUITE, str(root), url], log)
        if sources.is_file():
            # Same suites as the host (updates, security), so packages match the host's versions.
            shutil.copyfile(sources, root / "etc/apt/sources.list.d/debian.sources")
            (root / "etc/apt/sources.list").unlink(missing_ok=True)
        with chroot(root, log):
            run_in(root, log, "apt-get", "update")
            run_in(root, log, "apt-get", "-y", "upgrade")
            run_in(root, log, "apt-get", "clean")
        save_rootfs(root, out, log)
    print(f"cluster: Debian {SUITE} base built in {time.monotonic() - started:.0f} s", flush=True)
    return out


def apt_install(root: Path, log: Path, packages: list[str]) -> None:
    run_in(root, log, "apt-get", "update")
    run_in(root, log, "apt-get", "install", "-y", "--no-install-recommends", *packages)
    run_in(root, log, "apt-get", "clean")


def numeric_user(root: Path, user: str) -> str:
    """`redis` -> `uid:gid` from the image's /etc/passwd (runAsNonRoot needs numbers)."""
    if re.fullmatch(r"\d+(:\d+)?", user):
        return user
    for line in (root / "etc/passwd").read_text().splitlines():
        f = line.split(":")
        if f[0] == user:
            return f"{f[2]}:{f[3]}"
    raise SystemExit(f"user {user} not in the image's /etc/passwd")


def make_workdir(root: Path, workdir: str, user: str) -> None:
    """The working directory, owned by the image's user so it can write there (as upstream's)."""
    if workdir in ("/", "/tmp"):
        return
    work = root / workdir.lstrip("/")
    work.mkdir(parents=True, exist_ok=True)
    uid, _, gid = user.partition(":")
    os.chown(work, int(uid), int(gid or uid))


def python_sources() -> list[Path]:
    py = REPO / "python"
    files = [py / "pyproject.toml", py / "requirements.lock"]
    files += [
        p
        for p in sorted((py / "src").rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and not any(x.endswith(".egg-info") for x in p.parts)
    ]
    return files


def runtime_requirements() -> str:
    pyproject = tomllib.loads((REPO / "python/pyproject.toml").read_text())
    return "\n".join(pyproject["project"]["dependencies"]) + "\n"


def python_deps(log: Path) -> Path:
    """Base + python3 + the venv with the locked runtime dependencies (the Dockerfile's first steps)."""
    base = debian_base(log)
    lock = (REPO / "python/requirements.lock").read_text()
    key = digest(DEPS_RECIPE, base.name, runtime_requirements(), lock)
    out = cache_dir() / "rootfs" / f"llmaz-serverless-deps-{key}.tar"
    if out.is_file():
        return out
    started = time.monotonic()
    with workdir("python-deps") as root:
        load_rootfs(base, root, log)
        build = root / "tmp/build"
        build.mkdir(parents=True)
        shutil.copyfile(HOST_CA, build / "ca.crt")
        (build / "requirements.lock").write_text(lock)
        (build / "runtime-requirements.txt").write_text(runtime_requirements())
        with chroot(root, log):
            apt_install(root, log, ["python3", "python3-venv"])
            run_in(root, log, "python3", "-m", "venv", "/opt/llmaz-serverless")
            run_in(root, log, "/opt/llmaz-serverless/bin/pip", "install",
                   "--constraint", "/tmp/build/requirements.lock",
                   "--requirement", "/tmp/build/runtime-requirements.txt")  # fmt: skip
            run_in(root, log, "groupadd", "--system", "--gid", "10001", "llmaz")
            run_in(root, log, "useradd", "--system", "--uid", "10001", "--gid", "10001", "--no-create-home",
                   "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "llmaz")  # fmt: skip
        remove_tree(build)
        save_rootfs(root, out, log)
    print(f"cluster: llmaz-serverless dependencies built in {time.monotonic() - started:.0f} s", flush=True)
    return out


# --- one builder per source kind: each fills `root` and returns the image config ----------


def go_inputs(spec: dict) -> tuple[Path | None, list[object]]:
    pins = load_pins()
    pin = pins[spec["component"]]
    binary = bin_dir(spec["component"], pin) / spec["binary"]
    ready = is_built(spec["component"], pin) and binary.is_file()
    return (binary if ready else None), [pin, sha256_file(binary) if ready else None, sha256_file(HOST_CA)]


def build_go(spec: dict, root: Path, log: Path) -> ImageConfig:
    binary, _ = go_inputs(spec)
    assert binary is not None
    target = root / spec["path"].lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(binary, target)
    target.chmod(0o755)
    (root / "etc/ssl/certs").mkdir(parents=True)
    shutil.copyfile(HOST_CA, root / "etc/ssl/certs/ca-certificates.crt")
    (root / "etc/passwd").write_text(PASSWD)
    (root / "etc/group").write_text(GROUP)
    # Go's resolver reads this; without it some lookups skip /etc/hosts.
    (root / "etc/nsswitch.conf").write_text("hosts: files dns\n")
    (root / "tmp").mkdir(mode=0o1777)
    (root / "tmp").chmod(0o1777)
    (root / "home/nonroot").mkdir(parents=True, mode=0o700)
    os.chown(root / "home/nonroot", 65532, 65532)
    user = spec.get("user", "65532:65532")
    workdir = spec.get("workdir", "/")
    make_workdir(root, workdir, user)
    return ImageConfig(spec["entrypoint"], spec.get("cmd", []), spec.get("env", [PATH_ENV]), user, workdir)


def pause_source(spec: dict) -> Path:
    """`file` in the module cache's copy of the pinned module (downloaded if missing)."""
    pin = load_pins()[spec["component"]]
    out = subprocess.run(["go", "mod", "download", "-json", f"{pin['module']}@{pin['version']}"],
                         capture_output=True, text=True, env=go_env(), check=False)  # fmt: skip
    info = json.loads(out.stdout or "{}")
    if "Dir" not in info:
        detail = info.get("Error") or out.stderr
        raise SystemExit(f"cannot download {pin['module']}@{pin['version']}: {detail}")
    return Path(info["Dir"]) / spec["file"]


def build_pause(spec: dict, root: Path, log: Path) -> ImageConfig:
    ensure_host_tools("gcc")
    out = root / "pause"
    sh(["gcc", "-Os", "-Wall", "-Werror", "-static", f"-DVERSION={spec['version']}", "-o", str(out),
        str(pause_source(spec))], log)  # fmt: skip
    sh(["strip", str(out)], log)
    return ImageConfig(entrypoint=["/pause"], env=[PATH_ENV], user="65535:65535")


def build_debian(spec: dict, root: Path, log: Path) -> ImageConfig:
    load_rootfs(debian_base(log), root, log)
    with chroot(root, log):
        apt_install(root, log, spec["packages"])
    user = numeric_user(root, spec["user"])
    workdir = spec.get("workdir", "/")
    if workdir != "/":
        make_workdir(root, workdir, user)
    return ImageConfig(spec["entrypoint"], spec.get("cmd", []), [PATH_ENV], user, workdir)


def build_python(spec: dict, root: Path, log: Path) -> ImageConfig:
    load_rootfs(python_deps(log), root, log)
    src = root / "tmp/build"
    for f in python_sources():
        dst = src / "python" / f.relative_to(REPO / "python")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dst)
    shutil.copyfile(HOST_CA, src / "ca.crt")
    with chroot(root, log):
        # Builds the wheel with setuptools from PyPI (build isolation), as the Dockerfile does.
        run_in(root, log, "/opt/llmaz-serverless/bin/pip", "install", "--no-deps", "/tmp/build/python")
        run_in(root, log, "/opt/llmaz-serverless/bin/llmaz-serverless", "--version")
    remove_tree(src)
    venv_path = PATH_ENV.replace("PATH=", "PATH=/opt/llmaz-serverless/bin:")
    env = [venv_path, "PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1", "LANG=C.UTF-8"]
    return ImageConfig(["llmaz-serverless"], ["--help"], env, "10001:10001", "/tmp", APP_LABELS)


BUILDERS = {"go": build_go, "pause": build_pause, "debian": build_debian, "python": build_python}


def inputs(spec: dict) -> tuple[str | None, str]:
    """(why it cannot be built now or None, digest of everything the image is made from)."""
    scripts = [sha256_file(HERE / "oci.py"), sha256_file(Path(__file__))]
    source = spec["source"]
    if source == "go":
        binary, parts = go_inputs(spec)
        missing = None if binary else f"binary missing: run build.py {spec['component']}"
        return missing, digest(spec, parts, scripts)
    if source == "pause":
        return None, digest(spec, sha256_file(pause_source(spec)), scripts)
    if source == "python":
        files = {str(f.relative_to(REPO)): sha256_file(f) for f in python_sources()}
        return None, digest(spec, BASE_RECIPE, DEPS_RECIPE, files, scripts)
    return None, digest(spec, BASE_RECIPE, scripts)


def stamp_path(spec: dict) -> Path:
    return tar_path(spec).with_suffix(".json")


def build_image(key: str, spec: dict, skip_missing: bool = False) -> Path | None:
    out = tar_path(spec)
    missing, key_digest = inputs(spec)
    if missing:
        if skip_missing:
            print(f"cluster: image {spec['name']} skipped: {missing}", flush=True)
            return None
        raise SystemExit(f"image {spec['name']}: {missing}")
    stamp = stamp_path(spec)
    if out.is_file() and stamp.is_file() and json.loads(stamp.read_text()).get("inputs") == key_digest:
        return out
    logs = cache_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"image-{key}.log"
    log.write_text("")
    started = time.monotonic()
    with workdir(f"image-{key}") as root:
        config = BUILDERS[spec["source"]](spec, root, log)
        if spec["source"] in ("debian", "python"):
            tidy(root)
        manifest = write_image(root, out, names(spec), config)
    took = time.monotonic() - started
    stamp.write_text(json.dumps({"inputs": key_digest, "manifest": manifest, "names": names(spec)}) + "\n")
    size = out.stat().st_size / 1e6
    print(f"cluster: image {spec['name']} built in {took:.0f} s ({size:.1f} MB, {out})", flush=True)
    return out


def build_all(keys: list[str] | None = None, skip_missing: bool = False) -> list[Path]:
    """Build every image (or `keys` of versions.toml [cluster.images]) that is missing or out of date."""
    all_specs = specs()
    built = [build_image(k, all_specs[k], skip_missing) for k in keys or list(all_specs)]
    return [p for p in built if p]


def present(address: str) -> dict[str, str]:
    """Image name -> manifest digest of what containerd's k8s.io namespace holds."""
    out = subprocess.run(["ctr", "--address", address, "-n", "k8s.io", "images", "ls"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    rows = [line.split() for line in out.splitlines()[1:]]
    return {r[0]: r[2] for r in rows if len(r) > 2}


def import_all(address: str, keys: list[str] | None = None) -> list[str]:
    """Import the built archives into containerd at `address`; returns the names imported."""
    ensure_host_tools("ctr")
    have = present(address)
    done: list[str] = []
    for key in keys or list(specs()):
        spec = specs()[key]
        path, stamp = tar_path(spec), stamp_path(spec)
        if not path.is_file() or not stamp.is_file():
            raise SystemExit(f"image {spec['name']} is not built: run images.py build")
        manifest = json.loads(stamp.read_text())["manifest"]
        wanted = [normalize(n) for n in names(spec)]
        if all(have.get(n) == manifest for n in wanted):
            continue
        started = time.monotonic()
        subprocess.run(["ctr", "--address", address, "-n", "k8s.io", "images", "import", "--all-platforms",
                        str(path)], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        print(f"cluster: image {spec['name']} imported in {time.monotonic() - started:.0f} s", flush=True)
        done += wanted
    return done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build missing or out-of-date image archives")
    b.add_argument("--skip-missing", action="store_true", help="skip images whose Go binary is not built yet")
    b.add_argument("keys", nargs="*")
    i = sub.add_parser("import", help="import the archives into containerd")
    i.add_argument("--address", required=True, help="containerd socket")
    i.add_argument("keys", nargs="*")
    sub.add_parser("list", help="print every image name (as containerd stores it) and its archive")
    a = ap.parse_args(argv)
    if a.command == "build":
        build_all(a.keys or None, a.skip_missing)
    elif a.command == "import":
        import_all(a.address, a.keys or None)
    else:
        for spec in specs().values():
            for n in names(spec):
                print(f"{normalize(n)}\t{tar_path(spec)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
