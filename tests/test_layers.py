"""The layer matrix, read from the code: which package may import which, and no cycles.

The import graph is read with :mod:`ast` from every module of the five packages — imports at
the top, inside functions and under ``TYPE_CHECKING`` alike, since each is a dependency a
reader of the code must follow. The rules (the README's design section says them in words):

* ``kiosk.emrtd`` (the ICAO 9303 library) imports only itself and ``kiosk.transport``;
* ``kiosk.cccd`` (the Vietnamese card rules) builds on ``kiosk.emrtd`` only;
* nothing in ``kiosk``, ``drivers``, ``offline_cache`` or ``simulators`` imports ``ui``;
* only the application layer (``kiosk.app``) and the simulator reader (``drivers.simulated``)
  import ``simulators``;
* every package imports only what :data:`ALLOWED` lists for it (or a layer inside one), and no
  module imports itself back through others (no cycles).

:func:`violations` is tested on a graph with each forbidden import of the issue that made this
test, so the test is known to fail when one comes back.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kiosk", "drivers", "offline_cache", "simulators", "ui")

#: The command-line front-ends inside the ``kiosk`` package.
FRONT_ENDS = (
    "kiosk.cli",
    "kiosk.cli_common",
    "kiosk.checkin_cli",
    "kiosk.admin_cli",
    "kiosk.doctor_cli",
    "kiosk.db_cli",
    "kiosk.display_cli",
    "kiosk.audit_cli",
    "kiosk.terminal",
)
_CORE = ("kiosk.transport", "kiosk.config", "kiosk.emrtd", "kiosk.cccd", "kiosk.eligibility")

#: Layer → the layers it may import (its own always allowed; ``kiosk`` is the bare package).
ALLOWED: dict[str, frozenset[str]] = {
    "kiosk.transport": frozenset(),
    "kiosk.config": frozenset(),
    "kiosk.emrtd": frozenset({"kiosk.transport"}),
    "kiosk.cccd": frozenset({"kiosk.emrtd"}),
    # HTTP bounded in size and time: a leaf both the eligibility clients and the outbox use.
    "kiosk.bounded_http": frozenset(),
    # systemd's sd_notify (READY=1, WATCHDOG=1): a stdlib leaf the two kiosk front-ends use.
    "kiosk.sdnotify": frozenset(),
    "kiosk.eligibility": frozenset({"kiosk.bounded_http"}),
    "kiosk.checkin": frozenset(
        {"kiosk.transport", "kiosk.emrtd", "kiosk.cccd", "kiosk.eligibility"}
    ),
    "offline_cache": frozenset({"kiosk.bounded_http"}),
    "kiosk.ticket": frozenset(),
    "drivers.simulated": frozenset({"drivers", "kiosk.transport", "simulators"}),
    "drivers": frozenset({"kiosk.transport", "kiosk.config", "drivers.simulated"}),
    "simulators": frozenset({"kiosk.transport", "kiosk.emrtd", "kiosk.cccd", "kiosk.eligibility"}),
    # (bounded_http: the doctor's HIS probe checks the URL and TLS files as the outbox does)
    "kiosk.app": frozenset(
        {
            *_CORE,
            "kiosk.checkin",
            "kiosk.ticket",
            "kiosk.bounded_http",
            "offline_cache",
            "drivers",
            "simulators",
        }
    ),
    # The command-line front-ends: the application layer and the core's types; the drivers'
    # error classes only (opening readers and printers is the application layer's).
    **{
        m: frozenset(
            {*_CORE, "kiosk.checkin", "kiosk.app", "drivers.errors", "kiosk.sdnotify", *FRONT_ENDS}
        )
        for m in FRONT_ENDS
    },
    # The calling display's command: also its server and the voice.
    "kiosk.display_cli": frozenset(
        {*_CORE, "kiosk.app", "kiosk.sdnotify", "kiosk.display", "kiosk.voice", *FRONT_ENDS}
    ),
    # Speech (espeak-ng → WAV): a stdlib leaf the display (and a kiosk) may use.
    "kiosk.voice": frozenset(),
    # The calling display's Qt-free web server: the application layer's board and the voice.
    "kiosk.display": frozenset({"kiosk.app", "kiosk.voice"}),
    # The Qt kiosk: the application layer, the core's types, the reader watcher, and the
    # voice its spoken prompts use (the same one as the calling display).
    "ui": frozenset(
        {
            *_CORE,
            "kiosk.checkin",
            "kiosk.app",
            "drivers.watch",
            "drivers.errors",
            "kiosk.sdnotify",
            "kiosk.voice",
        }
    ),
    # The installed `cccd-kiosk`: the command line, with the Qt kiosk as its no-command runner.
    "ui.launch": frozenset({"kiosk.cli", "ui"}),
}


def layer_of(module: str) -> str:
    """The longest :data:`ALLOWED` key that is ``module`` or a package holding it."""
    best = ""
    for name in ALLOWED:
        if (module == name or module.startswith(name + ".")) and len(name) > len(best):
            best = name
    if not best and module != "kiosk":
        raise AssertionError(f"{module} belongs to no layer: add it to ALLOWED")
    return best or "kiosk"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Every project module → the project modules it imports (anywhere in its body)."""
    paths = {
        _module_name(p): p
        for pkg in PACKAGES
        for p in (ROOT / pkg).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        is_pkg = path.name == "__init__.py"
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    mod = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    mod = node.module or ""
                targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
            for t in targets:
                while t and t not in paths:  # `from pkg import mod` names the module itself
                    t = t.rpartition(".")[0]
                if t and t != name and t.split(".")[0] in PACKAGES:
                    deps.add(t)
        graph[name] = deps
    return graph


def _cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def violations(graph: Mapping[str, set[str]]) -> list[str]:
    """Every import that breaks the matrix, and every cycle, as readable lines."""
    out = []
    for module, deps in sorted(graph.items()):
        here = layer_of(module)
        for dep in sorted(deps):
            there = layer_of(dep)
            allowed = ALLOWED.get(here, frozenset())
            # a layer inside an allowed one (drivers.simulated inside drivers) is allowed too
            if there in (here, "kiosk") or any(
                there == a or there.startswith(a + ".") or dep == a or dep.startswith(a + ".")
                for a in allowed
            ):
                continue
            out.append(f"{module} imports {dep} ({here} may not import {there})")
    out.extend(f"cycle: {' → '.join(c)}" for c in _cycles(graph))
    return out


def test_the_code_keeps_the_layer_matrix() -> None:
    graph = import_graph()
    assert "kiosk.emrtd.session" in graph and "ui.app" in graph  # the walk found the code
    assert violations(graph) == []


def test_the_icao_library_stands_alone() -> None:
    graph = import_graph()
    outside = {
        (m, d)
        for m, deps in graph.items()
        if m.startswith("kiosk.emrtd")
        for d in deps
        if not (d.startswith("kiosk.emrtd") or d == "kiosk.transport")
    }
    assert outside == set()


@pytest.mark.parametrize(
    ("module", "dep"),
    [
        ("kiosk.emrtd.bac", "kiosk.cccd.access"),  # the ICAO library reaching the card rules
        ("kiosk.emrtd.trust", "simulators.card.pki"),  # the library importing the simulator
        ("drivers.registry", "simulators.card.profile"),  # only the simulator reader may
        ("kiosk.cli", "ui.app"),  # the core importing the Qt kiosk
        ("ui.app", "kiosk.cli_common"),  # a screen reaching into the command line
        ("ui.tester", "simulators.card.profile"),  # the UI around the application layer
        ("offline_cache.journal", "kiosk.app.kiosk"),  # storage above itself
        ("kiosk.cccd.access", "kiosk.checkin"),  # card rules above the pipeline
    ],
)
def test_each_forbidden_import_is_caught(module: str, dep: str) -> None:
    graph = import_graph()
    assert module in graph and dep in graph
    graph[module] = graph[module] | {dep}
    assert any(line.startswith(f"{module} imports {dep}") for line in violations(graph))


def test_a_cycle_is_caught() -> None:
    graph = import_graph()
    graph["kiosk.cli"] = graph["kiosk.cli"] | {"kiosk.checkin_cli"}
    graph["kiosk.checkin_cli"] = graph["kiosk.checkin_cli"] | {"kiosk.cli"}
    assert "cycle: kiosk.checkin_cli → kiosk.cli" in violations(graph)
