"""The layers hold (CONVENTIONS.md): logistics/ and geo/ are pure, the api and the worker
do not import each other, and the kernel (siaga/) sits below both — except the command-line
entry points, which wire everything."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
IO_AND_FRAMEWORKS = {"faust", "fastapi", "redis", "aiokafka", "uvicorn", "starlette"}
# entry points that may wire streams and api together (siaga run / worker / rebuild)
ENTRY_POINTS = {"siaga/cli.py", "siaga/runner.py", "siaga/rebuild.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["logistics", "geo"])
def test_the_core_does_no_io_and_knows_no_adapter(package: str) -> None:
    forbidden = IO_AND_FRAMEWORKS | {"streams", "api", "siaga"}
    if package == "logistics":
        forbidden |= {"geo", "shapely", "geopandas"}
    bad = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & forbidden)
        for p in _files(package)
        if _imports(p) & forbidden
    }
    assert not bad, bad


def test_the_api_and_the_worker_do_not_import_each_other() -> None:
    bad = {str(p.relative_to(ROOT)) for p in _files("api") if "streams" in _imports(p)}
    bad |= {str(p.relative_to(ROOT)) for p in _files("streams") if "api" in _imports(p)}
    assert not bad, bad


def test_the_kernel_sits_below_the_api_and_the_worker() -> None:
    bad = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & {"streams", "api"})
        for p in _files("siaga")
        if str(p.relative_to(ROOT)) not in ENTRY_POINTS and _imports(p) & {"streams", "api"}
    }
    assert not bad, bad
