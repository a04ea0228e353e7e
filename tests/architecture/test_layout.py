"""The layout the architecture promises, checked on the source itself.

Data flows one way: api → services (processing/, connect/) → workflows → activities →
domain → models. These tests read every module's imports (statically, `ast`) and fail on
any import that goes against that flow, on an import cycle, or on a file grown too large.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", ".data", ".git", "versions", "__pycache__", "node_modules"}
OURS = {
    "activities",
    "analytics",
    "api",
    "bank_emulator",
    "banks",
    "bench",
    "connect",
    "contracts",
    "core",
    "launcher",
    "models",
    "processing",
    "tests",
    "workflows",
    "worker",
}
IO_LIBRARIES = {"sqlmodel", "sqlalchemy", "fastapi", "httpx", "boto3", "redis", "psycopg"}


def source_files() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        if not SKIP_DIRS.intersection(path.relative_to(ROOT).parts):
            yield path


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in source_files()}


def imported(path: Path) -> set[str]:
    """Every module (ours or not) this file imports, at any depth of the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                names.add(full if full in modules() else base)
    return names


@cache
def edges() -> dict[str, set[str]]:
    """Our module → our modules it imports (the most specific module named)."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = set()
        for target in imported(path):
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
        graph[name] = targets
    return graph


def top(name: str) -> str:
    return name.split(".")[0]


def offending(source_tops: set[str], forbidden: set[str]) -> list[str]:
    return sorted(
        f"{name} imports {target}"
        for name, path in modules().items()
        if top(name) in source_tops
        for target in imported(path)
        if top(target) in forbidden
    )


def test_api_launcher_and_bench_never_import_activities() -> None:
    assert offending({"api", "launcher", "bench"}, {"activities"}) == []


def test_workflows_import_only_contracts_temporal_and_the_standard_library() -> None:
    forbidden = (OURS - {"contracts", "workflows"}) | IO_LIBRARIES
    assert offending({"workflows"}, forbidden) == []


def test_contracts_are_standard_library_and_temporal_only() -> None:
    assert offending({"contracts"}, (OURS - {"contracts"}) | IO_LIBRARIES) == []


def test_domain_never_reaches_up_to_the_api_or_the_activities() -> None:
    domain = {"processing", "connect", "banks", "analytics", "models", "core"}
    assert offending(domain, {"api", "activities", "launcher", "bench", "worker"}) == []


def test_bank_client_and_analytics_stand_alone() -> None:
    # banks/ mirrors bank_emulator/: it knows HTTP and the wire, nothing of our storage.
    assert offending({"banks"}, OURS - {"banks"}) == []
    # analytics/ is pure computation over plain inputs.
    assert offending({"analytics"}, (OURS - {"analytics"}) | IO_LIBRARIES) == []


def test_no_route_imports_another_route() -> None:
    routes = {name for name in modules() if name.startswith("api.routes.")}
    bad = sorted(
        f"{name} imports {target}"
        for name in routes
        for target in edges()[name]
        if target.startswith("api.routes") and target != name
    )
    assert bad == []


def test_there_is_no_import_cycle() -> None:
    graph = edges()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == []


@pytest.mark.parametrize(("folder", "limit"), [("activities", 200), ("", 400)])
def test_files_stay_small(folder: str, limit: int) -> None:
    too_long = sorted(
        f"{path.relative_to(ROOT)}: {count} lines"
        for path in source_files()
        if path.relative_to(ROOT).parts[0] == folder or not folder
        if (count := len(path.read_text().splitlines())) > limit
    )
    assert too_long == []
