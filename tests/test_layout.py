"""The house's shape: rooms visible from the tree, dependencies that point one way.

These read the source with ``ast`` rather than importing it, so an import
inside a function counts as much as one at the top of a module; imports
under ``if TYPE_CHECKING:`` do not, since they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
DOCS = Path(__file__).resolve().parent.parent / "docs"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((SRC / "reverie").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run, wherever it is, skipping TYPE_CHECKING blocks."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The project modules an import statement loads (the named module, not its parents)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".")[: -node.level]
            base = ".".join([*package, base] if base else package)
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                 for alias in node.names]
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name:
            yield name


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        graph[name] = {t for node in _runtime_imports(tree) for t in _targets(name, node)}
        graph[name].discard(name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles_counting_imports_inside_functions() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_daemon_never_imports_the_client_and_the_protocol_neither() -> None:
    graph = _graph()
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in graph.items()
        for target in targets
        if (name.startswith(("reverie.daemon", "reverie.protocol"))
            and target.startswith("reverie.client"))
        or (name.startswith(("reverie.client", "reverie.protocol"))
            and target.startswith("reverie.daemon")
            and not name.endswith("ctl.serve"))  # serve runs the daemon, lazily
    )
    assert wrong == []


def test_domain_rooms_never_import_their_adapters() -> None:
    adapters = ("reverie.daemon.rpc", "reverie.daemon.handlers", "reverie.daemon.tools")
    domain = ("reverie.daemon.memory", "reverie.daemon.coordination", "reverie.daemon.projects",
              "reverie.daemon.store", "reverie.daemon.dreaming", "reverie.daemon.lifecycle",
              "reverie.daemon.scheduling", "reverie.daemon.hooks", "reverie.daemon.team")
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in _graph().items() if name.startswith(domain)
        for target in targets if target.startswith(adapters)
    )
    assert wrong == []
    # Every room is on one side or the other, so a new one cannot slip past this test.
    daemon = SRC / "reverie" / "daemon"
    rooms = {p.name for p in daemon.iterdir() if (p / "__init__.py").is_file()}
    assert rooms == {name.rpartition(".")[2] for name in (*adapters, *domain)}


def test_the_daemon_root_holds_at_most_twelve_modules() -> None:
    root = sorted(p.name for p in (SRC / "reverie" / "daemon").glob("*.py"))
    assert len(root) <= 12, root


def test_architecture_is_a_map_not_a_diary() -> None:
    lines = (DOCS / "ARCHITECTURE.md").read_text().splitlines()
    assert len(lines) <= 200
