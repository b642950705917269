"""The onnxruntime-web files the Sketch pad serves: taken from the npm package pinned in package-lock.json.

The npm package is 148 MB; the page needs two of its files. They are committed gzipped under
assets/vendor/ (the server then sends them as they are, never recompressing them per visit) and
vendor.json records, for each, the file in the package and its sha256. `check_against_npm()` proves
the committed files are exactly the pinned package's; `python -m kmnist.ui.sketch_pad.vendor` rewrites
them after package.json changes (`npm install --package-lock-only` updates the lockfile first).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import tarfile
import urllib.request
from pathlib import Path

from kmnist.registry.hashing import content_sha256

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
MANIFEST = HERE / "vendor.json"
LOCKFILE = HERE / "package-lock.json"
PACKAGE = "onnxruntime-web"
REGISTRY = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kmnist-studio" / "npm"
# The files of the package the page loads: the wasm-only ONNX Runtime bundle, and its WebAssembly binary.
SOURCES = {"runtime": "package/dist/ort.wasm.bundle.min.mjs",
           "wasm": "package/dist/ort-wasm-simd-threaded.wasm"}


def pinned(package: str = PACKAGE, lockfile: Path = LOCKFILE) -> dict:
    """The version and integrity of `package` as `lockfile` pins it."""
    entry = json.loads(lockfile.read_text())["packages"][f"node_modules/{package}"]
    return {"version": entry["version"], "integrity": entry["integrity"]}


def manifest() -> dict:
    return json.loads(MANIFEST.read_text())


def served_files() -> dict[str, dict]:
    """Each vendored file's role -> its URL under assets/ and the sha256 of the gzipped file served."""
    return {entry["role"]: {"url": entry["file"], "sha256": entry["served_sha256"]}
            for entry in manifest()["files"]}


def npm_package(version: str, integrity: str, package: str = PACKAGE) -> bytes:
    """The package tarball from the npm registry (kept in CACHE), checked against the lockfile's integrity."""
    path = CACHE / f"{package}-{version}.tgz"
    if path.exists():
        data = path.read_bytes()
    else:
        url = f"{REGISTRY}/{package}/-/{package}-{version}.tgz"
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                data = response.read()
        except OSError as error:
            raise RuntimeError(f"cannot download {url} ({error}): checking the vendored files needs the "
                               "npm registry (set NPM_CONFIG_REGISTRY for a mirror)") from error
    algorithm, _, expected = integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise RuntimeError(f"{package} {version} from the registry does not match package-lock.json's "
                           f"integrity ({integrity}); got {algorithm}-{actual}")
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def package_files(version: str, integrity: str) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(npm_package(version, integrity)), mode="r:gz") as tar:
        return {name: tar.extractfile(name).read() for name in SOURCES.values()}


def check_against_npm() -> list[str]:
    """Problems with the vendored files (none when each equals its file in the pinned npm package)."""
    lock, recorded = pinned(), manifest()
    problems = [] if recorded["version"] == lock["version"] else [
        f"vendor.json was made from {PACKAGE} {recorded['version']} but package-lock.json pins "
        f"{lock['version']}: run `python -m kmnist.ui.sketch_pad.vendor`"]
    originals = package_files(lock["version"], lock["integrity"])
    for entry in recorded["files"]:
        served = (ASSETS / entry["file"]).read_bytes()
        original = originals.get(entry["source"])
        if original is None:
            problems.append(f"{entry['source']} is not in {PACKAGE} {lock['version']}")
        elif content_sha256(served) != entry["served_sha256"]:
            problems.append(f"{entry['file']} differs from the sha256 vendor.json records for it")
        elif gzip.decompress(served) != original or content_sha256(original) != entry["sha256"]:
            problems.append(f"{entry['file']} is not {entry['source']} of {PACKAGE} {lock['version']}")
    return problems


def write_vendored() -> dict:
    """Fetch the pinned package, write its SOURCES gzipped under assets/vendor/, and record them."""
    lock = pinned()
    files = []
    originals = package_files(lock["version"], lock["integrity"])
    for role, source in SOURCES.items():
        data = originals[source]
        packed = gzip.compress(data, compresslevel=9, mtime=0)  # same bytes every time
        name = f"vendor/{Path(source).name}.gz"
        (ASSETS / name).parent.mkdir(parents=True, exist_ok=True)
        (ASSETS / name).write_bytes(packed)
        files.append({"role": role, "source": source, "sha256": content_sha256(data), "bytes": len(data),
                      "file": name, "served_sha256": content_sha256(packed), "served_bytes": len(packed)})
    record = {"package": PACKAGE, "version": lock["version"], "license": "MIT", "files": files}
    MANIFEST.write_text(json.dumps(record, indent=2) + "\n")
    return record


if __name__ == "__main__":
    print(json.dumps(write_vendored(), indent=2))
