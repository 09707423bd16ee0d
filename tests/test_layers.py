"""The layers each do one job, checked by reading the code (no imports executed).

- `workflows/`: the domain and the workflows; it imports none of the other layers
  (activities only by name, for typed activity references, in `workflows/lanes.py`
  and `workflows/report_mail.py`).
- `core/`: what the API and the worker share (settings, Temporal connection, pool and
  migrations, data access, logs, mails). It imports neither the API nor the worker nor
  the activities, except `api.principals`: settings validate `API_KEYS` entries with
  the API's own rules.
- `activities/`: activities and their wiring only: classes whose public methods are
  activities, their pydantic inputs and results, private helpers.
- `api/`: never imports `worker/`, directly or through another module.
- SQL is written only in `core/store/` (and the migration runner, `core/db.py`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("workflows", "core", "activities", "api", "worker")
SQL = re.compile(
    r"\bSELECT\b[\s\S]+\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\bSELECT\s+(1|EXISTS|nextval|pg_)",
    re.IGNORECASE,
)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _tree(module: str) -> ast.Module:
    return ast.parse(MODULES[module].read_text(encoding="utf-8"))


def _imports(module: str) -> set[str]:
    """The project's modules `module` imports anywhere in its body (functions too)."""
    names: set[str] = set()
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
    return {n for n in names if n in MODULES}


def _layer(module: str) -> str:
    return module.split(".")[0]


def _reachable(start: str) -> Iterator[tuple[str, str]]:
    """Every project module `start` imports, directly or not, with the module that
    imports it."""
    seen, todo = {start}, [start]
    while todo:
        current = todo.pop()
        for imported in sorted(_imports(current)):
            if imported not in seen:
                seen.add(imported)
                todo.append(imported)
                yield current, imported


def _in(layer: str) -> list[str]:
    return [m for m in MODULES if _layer(m) == layer]


@pytest.mark.parametrize("module", _in("api"))
def test_the_api_never_imports_the_worker(module: str) -> None:
    through = [(a, b) for a, b in _reachable(module) if _layer(b) == "worker"]
    assert not through, f"{module} reaches worker/ through {through}"


@pytest.mark.parametrize("module", _in("core"))
def test_core_imports_neither_the_api_nor_the_worker_nor_activities(module: str) -> None:
    wrong = {
        m
        for m in _imports(module)
        if _layer(m) in ("worker", "activities") or (_layer(m) == "api" and m != "api.principals")
        if m != "api"  # `from api.principals import ...` names the package too
    }
    assert not wrong, f"{module} imports {sorted(wrong)}"


@pytest.mark.parametrize("module", _in("activities"))
def test_activities_import_neither_the_api_nor_the_worker(module: str) -> None:
    wrong = {m for m in _imports(module) if _layer(m) in ("api", "worker")}
    assert not wrong, f"{module} imports {sorted(wrong)}"


@pytest.mark.parametrize("module", _in("workflows"))
def test_workflows_import_no_service_layer(module: str) -> None:
    wrong = {m for m in _imports(module) if _layer(m) in ("api", "core", "worker")}
    assert not wrong, f"{module} imports {sorted(wrong)}"


def _is_activity(node: ast.AST) -> bool:
    return isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
        "activity.defn" in ast.unparse(d) for d in node.decorator_list
    )


def _defines_activities_only(tree: ast.Module) -> list[str]:
    """What a module of activities/ defines besides activities and their wiring."""
    problems = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if not node.name.startswith("_"):
                problems.append(f"function {node.name}")
        elif isinstance(node, ast.ClassDef):
            if any(ast.unparse(b) == "BaseModel" for b in node.bases):
                continue  # an activity's input or result
            methods = [
                n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
            if not any(_is_activity(m) for m in methods):
                problems.append(f"class {node.name} (no activity)")
            public = [
                m.name
                for m in methods
                if not m.name.startswith("_") and not _is_activity(m) and m.name != "activities"
            ]
            problems.extend(f"method {node.name}.{name} (not an activity)" for name in public)
    return problems


@pytest.mark.parametrize(
    "module", [m for m in _in("activities") if m not in ("activities", "activities.errors")]
)
def test_activities_define_only_activities_and_their_wiring(module: str) -> None:
    assert _defines_activities_only(_tree(module)) == []


def _strings(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            yield (
                node.lineno,
                "".join(
                    v.value
                    for v in node.values
                    if isinstance(v, ast.Constant) and isinstance(v.value, str)
                ),
            )


_SQL_HOMES = ("core.store", "core.db")


@pytest.mark.parametrize(
    "module", [m for m in MODULES if _layer(m) != "workflows" and not m.startswith(_SQL_HOMES)]
)
def test_sql_is_written_only_in_the_data_access_package(module: str) -> None:
    found = [(line, text[:60]) for line, text in _strings(_tree(module)) if SQL.search(text)]
    assert not found, f"{module} writes SQL: {found}"


def test_the_checks_would_catch_what_they_forbid() -> None:
    """The readers above are not vacuous: they see what they are meant to refuse."""
    assert SQL.search("SELECT doc FROM cases WHERE case_id = %s")
    assert SQL.search("INSERT INTO api_keys (digest) VALUES (%s)")
    assert SQL.search("UPDATE remote_authorizations SET revoked_at = now()")
    assert not SQL.search("DELETE")  # an HTTP method, not a statement
    assert "core.store" in _imports("api.main")
    assert ("worker.dev", "api.keys") in set(_reachable("worker.dev"))
    helper = ast.parse("def helper(): pass\nclass Plain:\n    def run(self): pass\n")
    assert _defines_activities_only(helper) == [
        "function helper",
        "class Plain (no activity)",
        "method Plain.run (not an activity)",
    ]
