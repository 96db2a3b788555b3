"""The house in figures: lines per room, imports between rooms, cycles and function-level imports.

    python -m bench.layers

Reads the import graph the way import-linter does (grimp), so its figures match `lint-imports`.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "schedules", "storage")
# The rooms of the README's Layout, most specific first; a module belongs to the first that prefixes it.
ROOMS = (
    "bot.cli",
    "bot.slack",
    "bot.services",
    "bot.local",
    "bot.blocks",
    "bot.texts",
    "bot",  # wiring: app, config, server, socket_mode, manifest, __main__
    "handlers",
    "schedules",
    "storage.migrations",
    "storage",
)


def room_of(module: str) -> str:
    return next(r for r in ROOMS if module == r or module.startswith(r + "."))


def lines_per_room() -> Counter[str]:
    counts: Counter[str] = Counter()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            counts[room_of(module)] += sum(1 for _ in path.open(encoding="utf-8"))
    return counts


def function_level_imports() -> list[str]:
    """`import` statements inside a function of a product module (not under `if TYPE_CHECKING`)."""
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    for inner in ast.walk(node):
                        if isinstance(inner, ast.Import | ast.ImportFrom):
                            names = [inner.module or ""] if isinstance(inner, ast.ImportFrom) else []
                            names += [a.name for a in inner.names] if isinstance(inner, ast.Import) else []
                            own = any(n.split(".")[0] in PACKAGES for n in names)
                            found.append(f"{path.relative_to(ROOT)}:{inner.lineno} {'own' if own else 'library'}")
    return found


def main() -> None:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    edges: Counter[tuple[str, str]] = Counter()
    handler_to_handler = 0
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            a, b = room_of(importer), room_of(imported)
            if a != b:
                edges[(a, b)] += 1
            if a == b == "handlers" and importer != "handlers" and imported != "handlers":
                handler_to_handler += 1
    cycles = [
        (a, b)
        for a in graph.modules
        for b in graph.find_modules_directly_imported_by(a)
        if a < b and graph.chain_exists(importer=b, imported=a)
    ]
    print("lines per room")
    for room, n in sorted(lines_per_room().items(), key=lambda kv: ROOMS.index(kv[0])):
        print(f"  {room:<20} {n:>6}")
    print(f"imports between rooms: {sum(edges.values())} (module pairs)")
    for (a, b), n in sorted(edges.items()):
        print(f"  {a:<18} -> {b:<18} {n:>4}")
    print(f"handler -> handler imports: {handler_to_handler}")
    print(f"module pairs on an import cycle: {len(cycles)}")
    inner = function_level_imports()
    own = [i for i in inner if i.endswith(" own")]
    print(f"function-level imports: {len(inner)} ({len(own)} of the project's own modules)")
    for line in inner:
        print(f"  {line}")


if __name__ == "__main__":
    main()
