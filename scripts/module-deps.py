#!/usr/bin/env python3
"""The dependency graph between the runtime crate's top-level modules, read from its source.

Usage: scripts/module-deps.py [--crate runtime/src] [--dot]

Every `crate::<module>` path in a module's code (imports and inline paths; comments and
`#[cfg(test)]` modules left out) is an edge from that module to `<module>`. Names re-exported
at the crate root (`crate::Trap`, `crate::Engine`...) are resolved to the module defining them
through the root's `pub use` lines. `vm` is the layer below the API: the script prints each
edge from `vm` to an API module, and every cycle (strongly connected component) of the graph,
and exits 1 when a cycle contains both `vm` and an API module.
"""

import argparse
import re
import sys
from pathlib import Path


def strip_comments_and_tests(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    # Drop `#[cfg(test)] mod name { ... }` blocks by brace matching.
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(pub(\([a-z]+\))?\s+)?mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def root_reexports(root):
    """Names the crate root re-exports, mapped to the top-level module they come from."""
    names = {}
    for m in re.finditer(r"pub use\s+(?:crate::)?(\w+)::([^;]+);", root, flags=re.S):
        module, items = m.group(1), m.group(2)
        for name in re.findall(r"\b([A-Z]\w*|[a-z_]\w*)\b(?:\s*,|\s*\}|$)", items):
            names.setdefault(name, module)
        for name in re.findall(r"as\s+(\w+)", items):
            names[name] = module
    return names


def module_of(path, src):
    rel = path.relative_to(src)
    first = rel.parts[0]
    return first[:-3] if first.endswith(".rs") else first


def graph(src):
    root = strip_comments_and_tests((src / "lib.rs").read_text())
    modules = {module_of(p, src) for p in src.rglob("*.rs")} - {"lib"}
    reexports = root_reexports(root)
    edges = {}
    for path in sorted(src.rglob("*.rs")):
        here = module_of(path, src)
        if here == "lib":
            continue
        text = strip_comments_and_tests(path.read_text())
        targets = set()
        for m in re.finditer(r"crate::\{([^}]*)\}", text):
            for name in re.findall(r"(?:^|,)\s*(\w+)", m.group(1)):
                targets.add(name)
        for m in re.finditer(r"crate::(\w+)", text):
            targets.add(m.group(1))
        for name in targets:
            target = name if name in modules else reexports.get(name)
            if target and target != here and target in modules:
                edges.setdefault(here, {}).setdefault(target, set()).add(str(path.relative_to(src)))
    return modules, edges


def sccs(nodes, edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
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
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crate", default="runtime/src", help="the crate's src directory")
    parser.add_argument("--dot", action="store_true", help="print the graph in Graphviz form")
    args = parser.parse_args()
    src = Path(args.crate)
    modules, edges = graph(src)
    if args.dot:
        print("digraph modules {")
        for a, targets in sorted(edges.items()):
            for b in sorted(targets):
                print(f'  "{a}" -> "{b}";')
        print("}")
        return 0
    up = edges.get("vm", {})
    print(f"{len(modules)} modules; vm depends on {len(up)} API module(s)")
    for target, files in sorted(up.items()):
        print(f"  vm -> {target}: {', '.join(sorted(files))}")
    crossing = False
    for comp in sccs(modules, edges):
        if len(comp) > 1:
            print(f"cycle of {len(comp)} modules: {' '.join(comp)}")
            crossing |= "vm" in comp
    if crossing:
        print("FAIL: a cycle crosses the API/vm line")
        return 1
    print("ok: no cycle crosses the API/vm line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
