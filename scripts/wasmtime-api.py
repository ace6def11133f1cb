#!/usr/bin/env python3
"""Compares the public Rust API of a Wasmtime release with wasmjit's and writes
docs/wasmtime-api.md.

    scripts/wasmtime-api.py [--wasmtime DIR] [--out FILE]

DIR defaults to the newest `wasmtime-48.*` in cargo's registry (`cargo fetch` with the
`compare` feature's lock gets it). Rustdoc JSON needs a nightly toolchain, so both crates are
read from their source: starting at `src/lib.rs`, the script follows `mod` declarations and
`pub use` re-exports (globs included), skipping items whose `#[cfg(feature = ...)]` asks for a
feature outside the set below, and collects

- the items reachable at the crate root (structs, enums, traits, type aliases, functions,
  constants, modules and re-exports of other crates), and
- the public inherent methods of every root type (`impl Type { pub fn ... }`).

Each Wasmtime item is then `same` (wasmjit has it at the same path; for methods, the same
signature once parameter names, lifetimes and path prefixes are dropped), `differs` (present,
another signature: both are shown) or `missing`. Items only wasmjit has are listed last.
The text of `docs/wasmtime-api-notes.md` (hand-written: what the missing and differing items
mean for an embedder) is copied in at the top. This is a source reading, not a compiler: it
sees what is written, not what macros generate, and it resolves names by their last segment.
"""

import argparse
import glob
import os
import re
import sys

# Wasmtime's features compared (issue 17): no component model, no WASI.
FEATURES = {
    "cranelift", "async", "gc", "threads", "pooling-allocator", "wat", "std", "runtime",
    "anyhow", "parallel-compilation",
}
# Settings of `cfg(...)` other than features, as on a 64-bit Unix host.
CFG_TRUE = {"unix", "target_has_atomic = \"64\"", "target_pointer_width = \"64\""}

ITEM_RE = re.compile(
    r"^pub\s+(?:(?:const|async|unsafe|extern\s+\"C\")\s+)*"
    r"(struct|enum|trait|type|fn|const|static|union|mod)\s+([A-Za-z_][A-Za-z0-9_]*)")
USE_RE = re.compile(r"^pub\s+use\s+(.*?);", re.S)
MOD_RE = re.compile(r"^(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;")
IMPL_RE = re.compile(r"^(?:unsafe\s+)?impl\b(.*?)\{", re.S)


def eval_cfg(expr):
    """Evaluates a `cfg(...)` predicate against FEATURES and CFG_TRUE."""
    expr = expr.strip()
    m = re.match(r"^(all|any|not)\((.*)\)$", expr, re.S)
    if m:
        args = split_top(m.group(2))
        vals = [eval_cfg(a) for a in args if a.strip()]
        if m.group(1) == "all":
            return all(vals)
        if m.group(1) == "any":
            return any(vals)
        return not vals[0]
    m = re.match(r'^feature\s*=\s*"([^"]+)"$', expr)
    if m:
        return m.group(1) in FEATURES
    norm = re.sub(r"\s+", " ", expr)
    if norm in CFG_TRUE:
        return True
    # Unknown settings (test, miri, docsrs, windows, other targets...): off.
    return False


def split_top(s):
    """Splits at commas not nested in parentheses, brackets or braces."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    # Line comments, but not inside strings (good enough: `//` in strings is rare here).
    return re.sub(r"(?m)//.*$", "", text)


def statements(text):
    """Yields (attributes, statement text, body or None) for each item at brace depth 0."""
    i, n = 0, len(text)
    attrs = []
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        if text.startswith("#![", i) or text.startswith("#[", i):
            j = match_bracket(text, text.index("[", i))
            if text.startswith("#[", i):
                attrs.append(text[i + 2:j])
            i = j + 1
            continue
        # A statement ends at `;` at depth 0 or at its first top-level `{...}` block.
        j, depth = i, 0
        while j < n:
            ch = text[j]
            if ch == '"':
                j = skip_string(text, j)
                continue
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif ch == ";" and depth == 0:
                yield attrs, text[i:j + 1], None
                i = j + 1
                break
            elif ch == "{" and depth == 0 and re.match(r"(pub(\([^)]*\))?\s+)?use\b", text[i:j]):
                # A use tree's braces are part of the statement.
                j = match_bracket(text, j) + 1
                continue
            elif ch == "{" and depth == 0:
                k = match_bracket(text, j)
                head = text[i:j]
                yield attrs, head, text[j + 1:k]
                i = k + 1
                # `struct X { .. }` and `impl` blocks end here; a trailing `;` is harmless.
                break
            j += 1
        else:
            break
        attrs = []


def skip_string(text, j):
    j += 1
    while j < len(text) and text[j] != '"':
        if text[j] == "\\":
            j += 1
        j += 1
    return j + 1


def match_bracket(text, j):
    open_ch = text[j]
    close_ch = {"[": "]", "{": "}", "(": ")"}[open_ch]
    depth = 0
    while j < len(text):
        ch = text[j]
        if ch == '"':
            j = skip_string(text, j)
            continue
        if ch == "'" and j + 2 < len(text) and text[j + 2] == "'":
            j += 3
            continue
        if ch == open_ch:
            depth += 1
        elif ch == close_ch:
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return len(text) - 1


def cfg_ok(attrs):
    for a in attrs:
        m = re.match(r"^\s*cfg\((.*)\)\s*$", a, re.S)
        if m and not eval_cfg(m.group(1)):
            return False
        if re.match(r"^\s*doc\s*\(\s*hidden\s*\)", a):
            return False
    return True


class Crate:
    def __init__(self, src_dir, name):
        self.src = src_dir
        self.name = name
        self.modules = {}  # module path tuple -> Module
        self.methods = {}  # type name -> {method: signature}

    def module(self, path):
        if path in self.modules:
            return self.modules[path]
        mod = Module(self, path)
        self.modules[path] = mod
        mod.load()
        return mod


class Module:
    def __init__(self, crate, path):
        self.crate = crate
        self.path = path
        self.items = {}  # name -> kind
        self.uses = []  # use trees (strings)
        self.children = set()
        self.renames = {}  # `use path::Name as Alias;` in this file: Alias -> Name
        self._exports = None

    def file(self):
        base = os.path.join(self.crate.src, *self.path)
        if not self.path:
            return os.path.join(self.crate.src, "lib.rs")
        for cand in (base + ".rs", os.path.join(base, "mod.rs")):
            if os.path.exists(cand):
                return cand
        return None

    def load(self):
        f = self.file()
        if f is None:
            return
        with open(f, encoding="utf-8") as fh:
            text = strip_comments(fh.read())
        self.parse(text)

    def parse(self, text):
        for attrs, head, body in statements(text):
            if not cfg_ok(attrs):
                continue
            h = " ".join(head.split())
            if h.startswith("cfg_select!") and body is not None:
                # The `unix` arm (see CFG_TRUE).
                m = re.search(r"unix\s*=>\s*\{([^}]*)\}", body)
                if m:
                    self.parse(m.group(1))
                continue
            m = MOD_RE.match(h + (";" if body is None and not h.endswith(";") else ""))
            if m and body is None:
                self.children.add(m.group(1))
                if h.startswith("pub mod") or h.startswith("pub(crate) mod") or h.startswith("mod"):
                    if h.startswith("pub mod"):
                        self.items[m.group(1)] = "mod"
                continue
            if h.startswith("use "):
                for name, alias in re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\s+as\s+([A-Za-z_][A-Za-z0-9_]*)", h):
                    if alias != "_":
                        self.renames[alias] = name
                continue
            if h.startswith("pub use"):
                m = USE_RE.match(h if h.endswith(";") else h + ";")
                if m:
                    self.uses.append(m.group(1))
                continue
            m = ITEM_RE.match(h)
            if m:
                kind, name = m.groups()
                if kind == "mod" and body is not None:
                    kind = "mod"
                self.items[name] = kind
                if kind == "trait" and body is not None:
                    pass
                continue
            if h.startswith("impl") or h.startswith("unsafe impl"):
                # `vm` holds internal types that share names with public ones.
                if body is not None and "vm" not in self.path:
                    self.parse_impl(h, body)

    def parse_impl(self, head, body):
        rest = re.sub(r"^(unsafe\s+)?impl\s*", "", head)
        if rest.startswith("<"):
            rest = rest[match_bracket(rest.replace("<", "(").replace(">", ")"), 0) + 1:]
        if " for " in f" {rest} ":
            return  # trait impls: not inherent methods
        ty = re.split(r"\s+where\s+", rest)[0].strip()
        ty = re.sub(r"<.*", "", ty).split("::")[-1].strip()
        if not ty:
            return
        methods = self.crate.methods.setdefault(ty, {})
        for attrs, mhead, _ in statements(body):  # `_`: a macro's body
            if not cfg_ok(attrs):
                continue
            mh = " ".join(mhead.split())
            m = re.match(r"^pub\s+(?:(?:const|async|unsafe|extern\s+\"C\")\s+)*fn\s+([A-Za-z_0-9]+)", mh)
            if m:
                sig = signature(mh, ty)
                # Types renamed on import are compared by their own names.
                for alias, name in self.renames.items():
                    sig = re.sub(rf"\b{alias}\b", name, sig)
                methods[m.group(1)] = sig
            elif mh.startswith("feature_setters!") and _ is not None:
                # wasmjit's `Config` switches, one `name => FEATURE` line each.
                for name in re.findall(r"\b(wasm_[a-z0-9_]+)\s*=>", _):
                    methods[name] = signature(f"pub fn {name}(&mut self, enable: bool) -> &mut Self", ty)

    def exports(self):
        """Names visible from outside: name -> kind."""
        if self._exports is not None:
            return self._exports
        self._exports = {}
        out = dict(self.items)
        for tree in self.uses:
            for name, kind in self.resolve_use(tree):
                out.setdefault(name, kind)
        self._exports = out
        return out

    def resolve_use(self, tree):
        tree = " ".join(tree.split())
        results = []
        for prefix, leaf in expand_tree(tree):
            segs = [s for s in prefix if s]
            target = self.resolve_path(segs)
            alias = None
            if " as " in leaf:
                leaf, alias = [x.strip() for x in leaf.split(" as ")]
            if leaf == "*":
                if target is not None:
                    results.extend(target.exports().items())
                continue
            if leaf == "self":
                if segs:
                    results.append((alias or segs[-1], "mod"))
                continue
            kind = "re-export"
            if target is not None:
                kind = target.exports().get(leaf, "re-export")
            results.append((alias or leaf, kind))
        return results

    def resolve_path(self, segs):
        """The module `segs` names from here, or None (another crate)."""
        path = list(self.path)
        if not segs:
            return self
        first = segs[0]
        if first == "crate":
            path, rest = [], segs[1:]
        elif first == "self":
            rest = segs[1:]
        elif first == "super":
            rest = segs
            while rest and rest[0] == "super":
                path = path[:-1]
                rest = rest[1:]
        elif first in self.children:
            rest = segs
        else:
            return None
        mod = self.crate.module(tuple(path))
        for s in rest:
            if s not in mod.children:
                return None
            mod = self.crate.module(tuple(list(mod.path) + [s]))
        return mod


def expand_tree(tree):
    """`a::b::{c, d::{e, f as g}, *}` -> [(['a','b'], 'c'), (['a','b','d'], 'e'), ...]."""
    tree = tree.strip()
    if tree.startswith("::"):
        tree = tree[2:]
    m = re.match(r"^(.*?)::\{(.*)\}$", tree, re.S)
    if m:
        base = m.group(1).split("::")
        out = []
        for part in split_top(m.group(2)):
            part = part.strip()
            if not part:
                continue
            for p, leaf in expand_tree(part):
                out.append((base + p, leaf))
        return out
    if tree.startswith("{") and tree.endswith("}"):
        out = []
        for part in split_top(tree[1:-1]):
            out.extend(expand_tree(part))
        return out
    segs = tree.split("::")
    return [(segs[:-1], segs[-1])]


def signature(head, self_ty):
    """A method signature normalized for comparison: no parameter names, lifetimes, generic
    bounds, path prefixes or `const`; `Self` spelled out; `Rooted<T>` as `T` (an alias of
    `T` in wasmjit, which has no collector)."""
    s = re.sub(r"\s+where\s+.*$", "", head)
    s = re.sub(r"^pub\s+", "", s)
    s = re.sub(r"^const\s+", "", s)
    s = re.sub(r"'[a-z_]+\b\s*\+?\s*", "", s)  # lifetimes
    s = re.sub(r"\b(crate|self|super|anyhow|wasmtime_environ|core|std|alloc|error|ffi|"
               r"wasmjit_fiber|fmt|ops|any|path|sync)::", "", s)
    s = re.sub(r"(?<!&)\bmut self\b", "self", s)
    # Parameter names (a name followed by one colon).
    s = re.sub(r"(?<=[(,])\s*(mut\s+)?[a-z_][a-z0-9_]*\s*:(?!:)\s*", "", s)
    # Generic parameters: names only.
    m = re.match(r"^(.*?fn\s+[A-Za-z_0-9]+)<(.*?)>\(", s)
    if m:
        names = [p.split(":")[0].strip() for p in split_top(m.group(2))]
        names = [n for n in names if n]
        gen = f"<{', '.join(names)}>" if names else ""
        s = m.group(1) + gen + s[len(m.group(0)) - 1:]
    s = re.sub(r"\bRooted<([A-Za-z]+)>", r"\1", s)
    s = re.sub(r"\bSelf\b", self_ty, s)
    s = re.sub(rf"\b{self_ty}<[A-Za-z, ]*>", self_ty, s)
    s = re.sub(r"\s+", " ", s).strip()
    s = s.replace("<, ", "<").replace("< ", "<").replace("+ )", ")").replace(" +)", ")")
    s = s.replace("( ", "(").replace(" )", ")").replace(", )", ")").replace(",)", ")")
    s = s.replace("& ", "&").replace("<>", "")
    return s


def collect(src_dir, name):
    crate = Crate(src_dir, name)
    root = crate.module(())
    # Load every module so that all impl blocks are seen.
    pending = [()]
    seen = set()
    while pending:
        p = pending.pop()
        if p in seen:
            continue
        seen.add(p)
        m = crate.module(p)
        for c in m.children:
            pending.append(tuple(list(p) + [c]))
    return root.exports(), crate.methods


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wasmtime")
    ap.add_argument("--out")
    args = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    wt = args.wasmtime
    if wt is None:
        home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
        found = sorted(glob.glob(os.path.join(home, "registry/src/*/wasmtime-48.*")))
        if not found:
            sys.exit("wasmtime 48 is not in cargo's registry: run `cargo fetch` first")
        wt = found[-1]
    version = os.path.basename(wt.rstrip("/")).replace("wasmtime-", "")
    theirs, their_methods = collect(os.path.join(wt, "src"), "wasmtime")
    ours, our_methods = collect(os.path.join(repo, "runtime/src"), "wasmjit")

    rows = []
    counts = {"same": 0, "differs": 0, "missing": 0}
    for name in sorted(theirs, key=str.lower):
        kind = theirs[name]
        status = "same" if name in ours else "missing"
        counts[status] += 1
        rows.append((f"`{name}`", kind, status, ""))
        if kind in ("struct", "enum", "union", "type", "re-export", "trait"):
            tm = their_methods.get(name, {})
            om = our_methods.get(name, {})
            for meth in sorted(tm):
                if meth not in om:
                    st, note = "missing", ""
                elif tm[meth] == om[meth]:
                    st, note = "same", ""
                else:
                    st = "differs"
                    note = f"Wasmtime `{tm[meth]}`; wasmjit `{om[meth]}`"
                if status == "missing":
                    st = "missing"
                counts[st] += 1
                rows.append((f"`{name}::{meth}`", "method", st, note.replace("|", "\\|")))
    extra = sorted(n for n in ours if n not in theirs)

    notes_path = os.path.join(repo, "docs/wasmtime-api-notes.md")
    notes = open(notes_path, encoding="utf-8").read() if os.path.exists(notes_path) else ""
    out = []
    out.append("# wasmjit's Rust API against Wasmtime's\n")
    out.append(
        f"Generated by `scripts/wasmtime-api.py` from the source of wasmtime {version} "
        f"(features: {', '.join(sorted(FEATURES))}) and of `runtime/` (the `wasmjit` crate); "
        "do not edit by hand, re-run the script. The notes below come from "
        "`docs/wasmtime-api-notes.md`.\n")
    out.append(
        f"Totals: {counts['same']} same, {counts['differs']} differ, "
        f"{counts['missing']} missing (root items and the inherent methods of root types; "
        "`differs` compares signatures textually, without parameter names, lifetimes and "
        "path prefixes).\n")
    if notes:
        out.append(notes.rstrip() + "\n")
    out.append("## Items\n")
    out.append("| item | kind | status | note |")
    out.append("|---|---|---|---|")
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    out.append("")
    out.append("## Only in wasmjit\n")
    out.append(", ".join(f"`{n}`" for n in extra) + "\n")
    text = "\n".join(out)
    dest = args.out or os.path.join(repo, "docs/wasmtime-api.md")
    with open(dest, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"{dest}: {counts}")


if __name__ == "__main__":
    main()
