"""The Sketch pad's vendored onnxruntime-web files: the pinned npm package's, served as they are."""

import gzip
import json
import mimetypes

from kmnist.ui.sketch_pad import vendor


def test_the_vendored_files_are_the_pinned_npm_packages():
    """Downloads the tarball package-lock.json pins (checked against its integrity) and compares."""
    assert vendor.check_against_npm() == []


def test_package_json_pins_an_exact_version_and_the_lockfile_agrees():
    declared = json.loads((vendor.HERE / "package.json").read_text())["dependencies"][vendor.PACKAGE]
    assert declared == vendor.pinned()["version"] == vendor.manifest()["version"]


def test_a_changed_vendored_file_is_caught(tmp_path, monkeypatch):
    for entry in vendor.manifest()["files"]:
        target = tmp_path / entry["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((vendor.ASSETS / entry["file"]).read_bytes())
    wasm = next(e["file"] for e in vendor.manifest()["files"] if e["role"] == "wasm")
    (tmp_path / wasm).write_bytes(gzip.compress(b"\0asm not the real runtime", mtime=0))
    monkeypatch.setattr(vendor, "ASSETS", tmp_path)
    problems = vendor.check_against_npm()
    assert problems == [f"{wasm} differs from the sha256 vendor.json records for it"]


def test_the_served_files_are_gzip_so_the_server_never_recompresses_them():
    """Streamlit's gzip middleware leaves application/gzip alone (Starlette's excluded types)."""
    from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES
    from streamlit.web.server.component_file_utils import guess_content_type

    for role, served in vendor.served_files().items():
        path = vendor.ASSETS / served["url"]
        assert guess_content_type(str(path)) in DEFAULT_EXCLUDED_CONTENT_TYPES, role
        assert vendor.content_sha256(path.read_bytes()) == served["sha256"]
    total = sum(entry["served_bytes"] for entry in vendor.manifest()["files"])
    assert total < 4e6, f"the runtime costs {total / 1e6:.1f} MB to download"
    assert mimetypes.guess_type("model.onnx.gz")[1] == "gzip"  # the twins are served the same way
