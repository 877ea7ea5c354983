"""Imports run one way along the data flow, and no module imports another that imports it back.

source -> tracking -> retarget -> classify -> mapping -> frame -> protocols -> transports ->
outputs and the programs built on them; config and the CLI sit on the side. A module may import
its own stage, an earlier one, or the shared leaves; every import is read from the source (lazy
ones inside functions included), so a new backward import fails here.
"""
from __future__ import annotations

import ast
from pathlib import Path

import bridge

ROOT = Path(bridge.__file__).parent

# Imported by anyone; they import only each other (types, names, conventions, maths, small utilities).
LEAVES = {"bridge", "bridge.errors", "bridge.arkit", "bridge.frame", "bridge.landmarks", "bridge.classes",
          "bridge.retarget.conventions", "bridge.retarget.quat", "bridge.filters", "bridge.models",
          "bridge.calibration", "bridge.progress", "bridge.status", "bridge.tracking.native_logs"}
# Stages in data-flow order: (module prefix, rank). The longest matching prefix wins.
STAGES = [("bridge.sources", 0), ("bridge.tracking", 1), ("bridge.retarget", 2), ("bridge.classify", 3),
          ("bridge.reactions", 3), ("bridge.identity", 3), ("bridge.mapping", 4), ("bridge.presets", 4),
          ("bridge.protocols", 6), ("bridge.transports", 7)]
LAST = 8  # everything else: outputs, control, pipeline, replay, recording, export, batch, ...
SIDE = "bridge.config"  # read by every stage; reads only leaves and the mapping/reactions parsers
CONFIG_MAY_IMPORT = {"bridge.mapping", "bridge.reactions"}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in ROOT.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The bridge modules `name` imports, resolved to modules that exist."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod for a in node.names]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name and t.startswith("bridge"):
                out.add(t)
    return out


def rank(name: str) -> int:
    best = ("", LAST)
    for prefix, r in STAGES:
        if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > len(best[0]):
            best = (prefix, r)
    return best[1]


def is_cli(name: str) -> bool:
    return name == "bridge.cli" or name.startswith("bridge.cli.")


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {n: imports_of(n, p, known) for n, p in mods.items()}


def violations(g: dict[str, set[str]]) -> list[str]:
    bad = []
    for name, deps in sorted(g.items()):
        for dep in sorted(deps):
            if is_cli(dep) and not is_cli(name):
                bad.append(f"{name} imports the CLI ({dep})")
            elif is_cli(name) or dep in LEAVES or dep == SIDE and name != SIDE:
                continue
            elif name in LEAVES:
                bad.append(f"leaf {name} imports {dep}")
            elif name == SIDE:
                if dep not in CONFIG_MAY_IMPORT:
                    bad.append(f"config imports {dep}")
            elif rank(dep) > rank(name):
                bad.append(f"{name} (stage {rank(name)}) imports {dep} (stage {rank(dep)}), against the data flow")
    return bad


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(n: str, stack: list[str]) -> None:
        state[n] = 1
        stack.append(n)
        for d in sorted(g.get(n, ())):
            if state.get(d) == 1:
                found.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d, stack)
        stack.pop()
        state[n] = 2

    for n in sorted(g):
        if n not in state:
            visit(n, [])
    return found


def test_imports_follow_the_data_flow():
    assert violations(graph()) == []


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_check_catches_a_backward_import():
    g = graph()
    g["bridge.tracking.face"] = g.get("bridge.tracking.face", set()) | {"bridge.outputs"}
    g["bridge.protocols.vmc"] = g["bridge.protocols.vmc"] | {"bridge.cli"}
    bad = violations(g)
    assert any("bridge.tracking.face" in b and "bridge.outputs" in b for b in bad)
    assert any("imports the CLI" in b for b in bad)
    g["bridge.frame"] = {"bridge.arkit"}
    g["bridge.arkit"] = {"bridge.frame"}
    assert any(set(c) >= {"bridge.frame", "bridge.arkit"} for c in cycles(g))

