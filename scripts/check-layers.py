#!/usr/bin/env python3
"""Fails when modules of the crate import each other in a loop.

Reads every `src/**/*.rs`, maps each file to its module path (`src/server/db/mod.rs` is
`server::db`), and records an edge A -> B for each path A names that starts with
`crate::` or `super::` and resolves into module B (the longest module prefix of the
path). `#[cfg(test)] mod tests` blocks are left out: a test module always reaches into
its parent. A module and the modules inside it form one unit (a parent declares its
children and may use their items, and they its private helpers); every other loop,
direct or through other modules, is reported with its path.

Usage: python3 scripts/check-layers.py [--graph] [src]   (--graph prints every edge)
"""

import re
import sys
from pathlib import Path

PATH = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE = re.compile(r"\buse\s+([^;]*);", re.S)
TOKEN = re.compile(r"::|[{},]|[A-Za-z_][A-Za-z0-9_]*|\*")


def module_of(src: Path, file: Path) -> tuple[str, ...]:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts.pop()
    return tuple(parts)


def without_test_modules(text: str) -> str:
    """Cuts `#[cfg(test)] mod tests { ... }` blocks (brace-matched)."""
    out, i = [], 0
    for match in re.finditer(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text):
        if match.start() < i:
            continue
        out.append(text[i : match.start()])
        depth, j = 1, match.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def without_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", text)


def use_paths(tree: str) -> list[list[str]]:
    """Every path a `use` tree names: `a::{b, c::{d, e}}` gives a::b, a::c::d, a::c::e.
    `as` renames are dropped."""
    tokens = TOKEN.findall(re.sub(r"\bas\s+\w+", "", tree))
    position = 0

    def parse(prefix: list[str]) -> list[list[str]]:
        nonlocal position
        paths, current = [], list(prefix)
        while position < len(tokens):
            token = tokens[position]
            position += 1
            if token == "::":
                continue
            if token == "{":
                paths.extend(parse(current))
                current = None
            elif token == ",":
                if current is not None and current != prefix:
                    paths.append(current)
                current = list(prefix)
            elif token == "}":
                break
            elif current is not None:
                current = current + [token]
        if current is not None and current != prefix:
            paths.append(current)
        return paths

    return parse([])


def resolve(module: tuple[str, ...], root: str, rest: str, is_dir_module: bool) -> list[str]:
    segments = [s for s in rest.split("::") if s]
    if root == "crate":
        base: list[str] = []
    else:
        base = list(module)
        # `super` of a file module `a/b.rs` is `a`; of `a/b/mod.rs` also `a`.
        base = base[:-1]
        while segments and segments[0] == "super":
            base = base[:-1]
            segments = segments[1:]
    return base + segments


def main() -> int:
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    src = Path(args[0] if args else "src")
    files = sorted(src.rglob("*.rs"))
    modules = {module_of(src, f): f for f in files}
    edges: dict[tuple[str, ...], set[tuple[str, ...]]] = {m: set() for m in modules}

    def target(path: list[str]) -> tuple[str, ...] | None:
        for length in range(len(path), 0, -1):
            if tuple(path[:length]) in modules:
                return tuple(path[:length])
        return None

    for module, file in modules.items():
        text = without_comments(without_test_modules(file.read_text()))
        is_dir = file.name == "mod.rs"
        paths: list[list[str]] = []
        for match in USE.finditer(text):
            for path in use_paths(match.group(1)):
                if path and path[0] in ("crate", "super"):
                    paths.append(resolve(module, path[0], "::".join([""] + path[1:]), is_dir))
        # Paths written in code, outside `use` statements (read whole above).
        for match in PATH.finditer(USE.sub("", text)):
            paths.append(resolve(module, match.group(1), match.group(2), is_dir))
        for path in paths:
            dest = target(path)
            if dest is None or dest == module:
                continue
            related = dest[: len(module)] == module or module[: len(dest)] == dest
            if not related:
                edges[module].add(dest)

    # Loops: strongly connected components with more than one module (Tarjan).
    index, low, stack, on_stack, loops = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
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
                loops.append(component)

    sys.setrecursionlimit(10_000)
    for node in edges:
        if node not in index:
            visit(node)

    name = lambda m: "::".join(m) or "crate"
    if "--graph" in sys.argv:
        for m in sorted(edges):
            print(f"{name(m)}: {', '.join(sorted(name(d) for d in edges[m])) or '-'}")
    edge_count = sum(len(e) for e in edges.values())
    if loops:
        for component in loops:
            members = set(component)
            print("layers: modules that import each other in a loop: "
                  + ", ".join(sorted(name(m) for m in component)))
            for m in sorted(component):
                for d in sorted(edges[m] & members):
                    print(f"  {name(m)} -> {name(d)}")
        return 1
    print(f"layers: {len(modules)} modules, {edge_count} imports between them, no loop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
