"""The map library the dashboard uses, vendored into ``api/static/vendor`` (no CDN).

Leaflet and its clustering plug-in, at pinned versions from the npm registry, with their
licences beside them. A user needs no Node.js: the built files are committed. To refresh
them (or move to a new version: change :data:`PACKAGES`, version and integrity together)::

    .venv/bin/python -m api.vendor          # downloads with `npm pack`, checks sha512
    .venv/bin/python -m api.vendor --check  # the committed files match the pinned tarballs

``npm pack`` is only the download; the tarball's sha512 must equal the pinned integrity
(the value ``npm view NAME@VERSION dist.integrity`` shows) before anything is written.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # npm's dist.integrity of the tarball
    files: dict[str, str]  # path in the tarball (under package/) -> path under vendor/<name>/


PACKAGES = (
    Package(
        "leaflet",
        "1.9.4",
        "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        {
            "LICENSE": "LICENSE",
            "dist/leaflet.js": "leaflet.js",
            "dist/leaflet.css": "leaflet.css",
            "dist/images/layers.png": "images/layers.png",
            "dist/images/layers-2x.png": "images/layers-2x.png",
            "dist/images/marker-icon.png": "images/marker-icon.png",
            "dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
            "dist/images/marker-shadow.png": "images/marker-shadow.png",
        },
    ),
    Package(
        "leaflet.markercluster",
        "1.5.3",
        "sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA==",
        {
            "MIT-LICENCE.txt": "MIT-LICENCE.txt",
            "dist/leaflet.markercluster.js": "leaflet.markercluster.js",
            "dist/MarkerCluster.css": "MarkerCluster.css",
            "dist/MarkerCluster.Default.css": "MarkerCluster.Default.css",
        },
    ),
)


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def download(package: Package) -> bytes:
    """The package's tarball via `npm pack`, refused unless its sha512 is the pinned one."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "npm not found: refreshing the vendored files needs npm (using them does not)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", f"{package.name}@{package.version}", "--pack-destination", tmp,
             "--silent"],
            check=True, stdout=subprocess.DEVNULL,
        )
        [tarball] = Path(tmp).glob("*.tgz")
        data = tarball.read_bytes()
    got = integrity_of(data)
    if got != package.integrity:
        raise SystemExit(f"{package.name}@{package.version}: integrity {got} is not the pinned "
                         f"{package.integrity}")
    return data


def extract(package: Package, data: bytes) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for source, target in package.files.items():
            member = tar.extractfile(f"package/{source}")
            if member is None:
                raise SystemExit(f"{package.name}: {source} missing from the tarball")
            out[target] = member.read()
    return out


def versions_text() -> str:
    lines = ["# Vendored by `python -m api.vendor` (see api/vendor.py); do not edit by hand.", ""]
    lines += [f"{p.name}@{p.version} {p.integrity}" for p in PACKAGES]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    differ: list[str] = []
    for package in PACKAGES:
        files = extract(package, download(package))
        folder = VENDOR / package.name
        for target, content in files.items():
            path = folder / target
            if args.check:
                if not path.exists() or path.read_bytes() != content:
                    differ.append(str(path.relative_to(VENDOR)))
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        print(f"{package.name}@{package.version}: {len(files)} files")  # noqa: T201
    versions = VENDOR / "VERSIONS"
    if args.check:
        if not versions.exists() or versions.read_text() != versions_text():
            differ.append("VERSIONS")
        if differ:
            print("differ from the pinned tarballs: " + ", ".join(differ))  # noqa: T201
            return 1
        return 0
    versions.write_text(versions_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
