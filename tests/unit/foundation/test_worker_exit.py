"""A stopped worker ends at once (siaga/cli.py ``_exit_without_teardown``): with the exit
code faust gave, its output written, and without the interpreter's teardown — which took
more than 7 s for a worker holding 20,000 shelters, past the 10 s a worker gets to stop."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)],  # noqa: S603
                          capture_output=True, text=True, timeout=60)


def test_a_stopped_worker_exits_with_its_code_and_its_output_written() -> None:
    done = _run("""
        import atexit, logging, sys
        from siaga.cli import _exit_without_teardown
        atexit.register(lambda: print("teardown ran"))
        logging.basicConfig(stream=sys.stderr, level=logging.INFO)
        print("stopped", end="")         # no newline: only an explicit flush writes it
        logging.getLogger("w").info("last log line")
        _exit_without_teardown(3)
    """)
    assert done.returncode == 3
    assert done.stdout == "stopped"      # written, and the teardown (atexit) did not run
    assert "last log line" in done.stderr


def test_an_exit_code_that_is_not_a_number_is_success_or_failure() -> None:
    assert _run("from siaga.cli import _exit_without_teardown; "
                "_exit_without_teardown(None)").returncode == 0
    assert _run("from siaga.cli import _exit_without_teardown; "
                "_exit_without_teardown('stopped badly')").returncode == 1
