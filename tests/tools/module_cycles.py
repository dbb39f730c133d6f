#!/usr/bin/env python3
"""Import cycles among the file modules of a Rust crate.

Usage: python3 tests/tools/module_cycles.py [--tests] CRATE/src

Every .rs file under src/ is a node (`foo/mod.rs` and `foo.rs` are both
module `foo`; `lib.rs` is the crate root; `bin/` and `main.rs` are other
crates and are left out). A → B is an edge when A refers to an item of B:

- in a `use crate::…`, `use super::…` or `use self::…` declaration, or
- in a path `crate::a::b::Item`, `super::x::Item`, `self::x::Item` in code,
  or a path through a module a `use` brought in (`use super::tls;` then
  `tls::server_name(…)`).

Comments, strings and `mod x;` declarations are not edges. A path goes to
the longest prefix of it that is a file module; a name that module
re-exports (`pub use child::{X, Y}`, `pub use self::child::X`, `pub use
child::*`) goes on to the file that defines it. A module's re-exports of
its own descendants are not edges of that module: a facade `mod.rs` does
not depend on its children for the cycle count, and its users' edges point
at the real files. Items under `#[cfg(test)]` are left out unless --tests
is given (a test may reach up to drive what it tests).

Cycles are the strongly connected components (Tarjan) of more than one
file. Each is printed with its edges and the lines that create them; the
exit status is 1 when there is any, else the script prints "no import
cycles among N modules" and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field

# ---------------------------------------------------------------- lexing


@dataclass(frozen=True)
class Tok:
    kind: str  # "id", "::", "punct", "lit"
    text: str
    line: int


def _skip_block_comment(src: str, i: int) -> int:
    """`i` is at `/*`; returns the index after the matching `*/` (nested)."""
    depth = 0
    n = len(src)
    while i < n:
        if src.startswith("/*", i):
            depth += 1
            i += 2
        elif src.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _skip_string(src: str, i: int) -> int:
    """`i` is at the opening `"`; returns the index after the closing one."""
    i += 1
    n = len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        else:
            i += 1
    return n


def _raw_string_end(src: str, i: int) -> int | None:
    """`i` is just after the `r` of a raw string prefix (`r`, `br`, `cr`):
    the index after the raw string, or None when this is no raw string."""
    j = i
    while j < len(src) and src[j] == "#":
        j += 1
    if j >= len(src) or src[j] != '"':
        return None
    closing = '"' + "#" * (j - i)
    end = src.find(closing, j + 1)
    return len(src) if end < 0 else end + len(closing)


def _is_ident_start(c: str) -> bool:
    return c.isalpha() or c == "_"


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def tokenize(src: str) -> list[Tok]:
    """Rust tokens that matter for paths, without comments; every string,
    character or number literal becomes one "lit" token."""
    toks: list[Tok] = []
    i, n, line = 0, len(src), 1

    def advance_to(j: int) -> None:
        nonlocal i, line
        line += src.count("\n", i, j)
        i = j

    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            advance_to(n if j < 0 else j)
        elif src.startswith("/*", i):
            advance_to(_skip_block_comment(src, i))
        elif c == '"':
            start = line
            advance_to(_skip_string(src, i))
            toks.append(Tok("lit", '""', start))
        elif c == "'":
            # A character literal ('a', '\n', '\u{1F600}') or a lifetime ('a).
            if i + 1 < n and src[i + 1] == "\\":
                j = i + 3  # past the escaped character, which may be a quote
                while j < n and src[j] != "'":
                    j += 1
                advance_to(j + 1)
                toks.append(Tok("lit", "''", line))
            elif i + 2 < n and src[i + 2] == "'":
                advance_to(i + 3)
                toks.append(Tok("lit", "''", line))
            else:
                j = i + 1
                while j < n and _is_ident_char(src[j]):
                    j += 1
                toks.append(Tok("punct", src[i:j], line))
                advance_to(max(j, i + 1))
        elif _is_ident_start(c):
            j = i
            while j < n and _is_ident_char(src[j]):
                j += 1
            word = src[i:j]
            if word in ("r", "br", "cr"):
                end = _raw_string_end(src, j)
                if end is not None:
                    start = line
                    advance_to(end)
                    toks.append(Tok("lit", '""', start))
                    continue
                if word == "r" and src.startswith("#", j) and _is_ident_start(src[j + 1 : j + 2] or " "):
                    # A raw identifier: r#type.
                    k = j + 1
                    while k < n and _is_ident_char(src[k]):
                        k += 1
                    toks.append(Tok("id", src[j + 1 : k], line))
                    advance_to(k)
                    continue
            if word in ("b", "c") and j < n and src[j] == '"':
                start = line
                advance_to(_skip_string(src, j))
                toks.append(Tok("lit", '""', start))
                continue
            if word == "b" and j < n and src[j] == "'":
                k = j + 1
                if k < n and src[k] == "\\":
                    k += 1
                k += 1
                while k < n and src[k] != "'":
                    k += 1
                advance_to(k + 1)
                toks.append(Tok("lit", "''", line))
                continue
            toks.append(Tok("id", word, line))
            advance_to(j)
        elif c.isdigit():
            j = i
            while j < n and (_is_ident_char(src[j]) or (src[j] == "." and src[j + 1 : j + 2].isdigit())):
                j += 1
            toks.append(Tok("lit", src[i:j], line))
            advance_to(j)
        elif src.startswith("::", i):
            toks.append(Tok("::", "::", line))
            i += 2
        else:
            toks.append(Tok("punct", c, line))
            i += 1
    return toks


# ---------------------------------------------------------------- use trees


def parse_use_tree(toks: list[Tok], i: int) -> tuple[list[tuple[list[str], str | None, int]], int]:
    """Parses the use tree starting at `toks[i]` up to its `;`.

    Returns the imported paths as (segments, alias, line of the last
    segment) — the last segment may be `*` or `self` — and the index after
    the `;`.
    """
    out: list[tuple[list[str], str | None, int]] = []

    def tree(i: int, prefix: list[str]) -> int:
        path = list(prefix)
        if i < len(toks) and toks[i].kind == "::":  # `use ::std::…`
            i += 1
        while i < len(toks):
            t = toks[i]
            if t.text == "{":
                i += 1
                while i < len(toks) and toks[i].text != "}":
                    i = tree(i, path)
                    if i < len(toks) and toks[i].text == ",":
                        i += 1
                return i + 1
            if t.text == "*":
                out.append((path + ["*"], None, t.line))
                return i + 1
            if t.kind != "id":
                return i
            path.append(t.text)
            i += 1
            if i < len(toks) and toks[i].kind == "::":
                i += 1
                continue
            alias = None
            if i + 1 < len(toks) and toks[i].text == "as":
                alias = toks[i + 1].text
                i += 2
            out.append((path, alias, t.line))
            return i
        return i

    j = tree(i, [])
    while j < len(toks) and toks[j].text != ";":
        j += 1
    return out, j + 1


# ---------------------------------------------------------------- per file


@dataclass
class Use:
    path: list[str]  # absolute (crate-relative) segments; may end in "*"
    alias: str | None
    public: bool
    line: int


@dataclass
class Ref:
    path: list[str]  # absolute (crate-relative) segments
    line: int


@dataclass
class FileInfo:
    module: tuple[str, ...]
    rel: str
    lines: list[str]
    uses: list[Use] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)
    # Paths used in code that start with a name (resolved later against
    # the file's imports): (first segment, rest, line).
    named_paths: list[tuple[str, list[str], int]] = field(default_factory=list)
    defines: set[str] = field(default_factory=set)
    # `use` paths that start with a plain name (`pub use child::X`,
    # `use tls::server_name`): made absolute once the crate's files are known.
    relative_uses: list[Use] = field(default_factory=list)
    # Child file modules declared under #[cfg(test)] (`mod tests;`).
    test_children: set[str] = field(default_factory=set)


ITEM_KEYWORDS = {"fn", "struct", "enum", "trait", "type", "const", "static", "union", "mod"}


def _absolute(segments: list[str], module: tuple[str, ...], inline: list[str]) -> list[str] | None:
    """Crate-relative segments of a path starting with crate/super/self,
    seen from `module` (the file) nested in the inline modules `inline`."""
    if not segments:
        return None
    here = list(module) + inline
    head = segments[0]
    rest = segments[1:]
    if head == "crate":
        return rest
    if head == "self":
        return here + rest
    if head == "super":
        k = 0
        while k < len(segments) and segments[k] == "super":
            k += 1
        if k > len(here):
            return None
        return here[: len(here) - k] + segments[k:]
    return None


def _skip_item(toks: list[Tok], i: int) -> int:
    """Index after the item starting at `toks[i]` (after its attributes)."""
    depth = 0
    while i < len(toks):
        t = toks[i].text
        if t in "([{" and toks[i].kind == "punct":
            depth += 1
        elif t in ")]}" and toks[i].kind == "punct":
            depth -= 1
            if depth == 0 and t == "}":
                return i + 1  # a braced item (`mod tests { … }`, `fn`, `impl`)
        elif t == ";" and depth == 0:
            return i + 1
        i += 1
    return i


def _attribute_end(toks: list[Tok], i: int) -> int:
    """`toks[i]` is `#`: index after the attribute's `]`."""
    j = i + 1
    if j < len(toks) and toks[j].text == "!":
        j += 1
    depth = 0
    while j < len(toks):
        t = toks[j].text
        if t == "[":
            depth += 1
        elif t == "]":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return j


def _is_cfg_test(toks: list[Tok], i: int, end: int) -> bool:
    words = [t.text for t in toks[i:end]]
    return words[:6] == ["#", "[", "cfg", "(", "test", ")"]


def scan_file(info: FileInfo, src: str, include_tests: bool) -> None:
    toks = tokenize(src)
    inline: list[str] = []
    inline_depth: list[int] = []  # brace depth at which each inline module opened
    depth = 0
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        if t.text == "#" and t.kind == "punct" and i + 1 < n and toks[i + 1].text in ("[", "!"):
            end = _attribute_end(toks, i)
            if not include_tests and _is_cfg_test(toks, i, end):
                j = end
                while j < n and toks[j].text == "#":
                    j = _attribute_end(toks, j)
                k = j + 1 if j < n and toks[j].text == "pub" else j
                if k + 2 < n and toks[k].text == "mod" and toks[k + 2].text == ";" and not inline:
                    info.test_children.add(toks[k + 1].text)
                i = _skip_item(toks, j)
                continue
            i = end  # attributes hold no dependency worth counting
            continue
        if t.kind == "punct" and t.text == "{":
            depth += 1
            i += 1
            continue
        if t.kind == "punct" and t.text == "}":
            depth -= 1
            if inline_depth and depth == inline_depth[-1]:
                inline.pop()
                inline_depth.pop()
            i += 1
            continue
        if t.kind != "id":
            i += 1
            continue
        word = t.text
        prev = toks[i - 1].text if i > 0 else ""
        following = toks[i + 1] if i + 1 < n else Tok("punct", "", 0)
        if word in ITEM_KEYWORDS and following.kind == "id" and following.text not in ITEM_KEYWORDS:
            name = following.text
            if depth == 0:
                info.defines.add(name)
            if word == "mod":
                if i + 2 < n and toks[i + 2].text == "{":
                    inline.append(name)
                    inline_depth.append(depth)
                    depth += 1
                    i += 3
                    continue
                i += 2  # `mod x;` declares a file, it is no edge
                continue
            i += 2
            continue
        if word == "macro_rules" and i + 2 < n and toks[i + 1].text == "!" and toks[i + 2].kind == "id":
            if depth == 0:
                info.defines.add(toks[i + 2].text)
            i += 3
            continue
        if word == "use" and prev != "::":
            public = _is_public(toks, i)
            trees, j = parse_use_tree(toks, i + 1)
            for segments, alias, line in trees:
                path = _absolute(segments, info.module, inline)
                if path is not None:
                    info.uses.append(Use(path, alias, public and not inline, line))
                elif segments and not inline:
                    # A child module's item, or `use tls::server_name` after
                    # `use super::tls`: resolved once every file is known.
                    info.relative_uses.append(Use(segments, alias, public, line))
                elif segments:
                    info.named_paths.append((segments[0], segments[1:], line))
            i = j
            continue
        # A path in code: IDENT (:: IDENT)+, not the tail of a longer path.
        if prev == "::" or prev == "$" or prev == "in" or prev == ".":
            i += 1
            continue
        segments = [word]
        j = i + 1
        while j + 1 < n and toks[j].kind == "::" and toks[j + 1].kind == "id":
            segments.append(toks[j + 1].text)
            j += 2
        if len(segments) >= 2:
            if word in ("crate", "super", "self"):
                path = _absolute(segments, info.module, inline)
                if path is not None:
                    info.refs.append(Ref(path, t.line))
            else:
                info.named_paths.append((word, segments[1:], t.line))
        i = j


def _is_public(toks: list[Tok], i: int) -> bool:
    """Whether the `use` at `toks[i]` is `pub`, `pub(crate)`, `pub(super)`…"""
    j = i - 1
    if j >= 0 and toks[j].text == ")":
        while j >= 0 and toks[j].text != "(":
            j -= 1
        j -= 1
    return j >= 0 and toks[j].text == "pub"


# ---------------------------------------------------------------- the crate


def module_of(rel: str, binary: bool = False) -> tuple[str, ...] | None:
    parts = rel[: -len(".rs")].split("/")
    if parts[0] == "bin":
        return None
    if rel == "main.rs":
        # A binary crate's root (no lib.rs): portholectl's src/.
        return () if binary else None
    if parts == ["lib"]:
        return ()
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts)


@dataclass
class Edge:
    src: tuple[str, ...]
    dst: tuple[str, ...]
    line: int


class Crate:
    def __init__(self, root: str, include_tests: bool):
        self.files: dict[tuple[str, ...], FileInfo] = {}
        binary = not os.path.exists(os.path.join(root, "lib.rs"))
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                if not name.endswith(".rs"):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                module = module_of(rel, binary)
                if module is None:
                    continue
                with open(full, encoding="utf-8") as f:
                    src = f.read()
                info = FileInfo(module, rel, src.splitlines())
                scan_file(info, src, include_tests)
                self.files[module] = info
        test_only = [m + (child,) for m, info in self.files.items() for child in info.test_children]
        for module in list(self.files):
            if any(module[: len(t)] == t for t in test_only):
                del self.files[module]
        for module, info in self.files.items():
            for use in info.relative_uses:
                if module + (use.path[0],) in self.files:
                    # `use child::X`: as if written `use self::child::X`.
                    info.uses.append(Use(list(module) + use.path, use.alias, use.public, use.line))
                else:
                    info.named_paths.append((use.path[0], use.path[1:], use.line))

    def file_prefix(self, path: list[str]) -> tuple[tuple[str, ...], list[str]]:
        """The longest prefix of `path` that is a file module, and the rest."""
        for k in range(len(path), -1, -1):
            if tuple(path[:k]) in self.files:
                return tuple(path[:k]), path[k:]
        return (), path

    def _reexport(self, module: tuple[str, ...], name: str) -> list[str] | None:
        """Where `module` re-exports `name` from, as an absolute path."""
        info = self.files[module]
        for use in info.uses:
            if not use.public or use.path[-1] == "*":
                continue
            visible = use.alias or (use.path[-2] if use.path[-1] == "self" else use.path[-1])
            if visible == name:
                return use.path[:-1] if use.path[-1] == "self" else use.path
        if name in info.defines:
            return None
        for use in info.uses:
            if use.public and use.path[-1] == "*":
                target, rest = self.file_prefix(use.path[:-1])
                if not rest and name in self.files[target].defines:
                    return use.path[:-1] + [name]
        return None

    def resolve(self, path: list[str]) -> tuple[str, ...] | None:
        """The file that defines what `path` names."""
        seen = set()
        while True:
            module, rest = self.file_prefix(path)
            if not rest or rest[0] == "*":
                return module
            key = (module, rest[0])
            if key in seen:
                return module
            seen.add(key)
            target = self._reexport(module, rest[0])
            if target is None:
                return module
            path = target + rest[1:]

    def edges(self) -> list[Edge]:
        out: list[Edge] = []
        for module, info in self.files.items():
            # Child modules are in scope by name (`mod targets;` then
            # `targets::plan(…)`); declaring one is no edge.
            children = {m[-1]: list(m) for m in self.files if m[:-1] == module and len(m) == len(module) + 1}
            aliases: dict[str, list[str]] = {}  # imported module's local name → its path
            alias_lines: dict[str, int] = {}
            used_aliases: set[str] = set()

            def add(path: list[str], line: int) -> None:
                target = self.resolve(path)
                if target is not None and target != module:
                    out.append(Edge(module, target, line))

            for use in info.uses:
                path = use.path[:-1] if use.path[-1] == "self" else use.path
                if use.public and path[: len(module)] == list(module):
                    # A re-export of one's own descendant: a facade, not a
                    # dependency (its users' edges go to the real file).
                    continue
                name = use.alias or (path[-1] if path else "")
                if path and path[-1] != "*" and tuple(path) in self.files:
                    # A module brought in by name: the edges are where it is used.
                    aliases[name] = path
                    alias_lines[name] = use.line
                    continue
                add(path, use.line)
            for first, rest, line in info.named_paths:
                if first in aliases and rest:
                    used_aliases.add(first)
                    add(aliases[first] + rest, line)
                elif first in children and rest:
                    add(children[first] + rest, line)
            for name, path in aliases.items():
                if name not in used_aliases:
                    add(path, alias_lines[name])
            for ref in info.refs:
                add(ref.path, ref.line)
        return out


# ---------------------------------------------------------------- cycles


def tarjan(nodes: list, succ: dict) -> list[list]:
    """Strongly connected components, iteratively (no recursion limit)."""
    index: dict = {}
    low: dict = {}
    on_stack: set = set()
    stack: list = []
    out: list[list] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(succ.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(succ.get(nxt, ()))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
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
                out.append(component)
    return out


def report(crate: Crate, out=sys.stdout) -> int:
    edges = crate.edges()
    succ: dict = {}
    for e in edges:
        succ.setdefault(e.src, [])
        if e.dst not in succ[e.src]:
            succ[e.src].append(e.dst)
    nodes = sorted(crate.files)
    cycles = [sorted(c) for c in tarjan(nodes, succ) if len(c) > 1]
    cycles.sort(key=lambda c: (-len(c), c))
    if not cycles:
        print(f"no import cycles among {len(nodes)} modules", file=out)
        return 0

    def name(m: tuple[str, ...]) -> str:
        return crate.files[m].rel

    for number, component in enumerate(cycles, 1):
        members = set(component)
        print(
            f"cycle {number} ({len(component)} files): " + ", ".join(name(m) for m in component),
            file=out,
        )
        inner: dict = {}
        for e in edges:
            if e.src in members and e.dst in members:
                inner.setdefault((e.src, e.dst), set()).add(e.line)
        for (src, dst), lines in sorted(inner.items()):
            print(f"  {name(src)} -> {name(dst)}", file=out)
            info = crate.files[src]
            for line in sorted(lines):
                text = info.lines[line - 1].strip() if line - 1 < len(info.lines) else ""
                print(f"      {info.rel}:{line}: {text}", file=out)
    print(f"{len(cycles)} import cycle(s) among {len(nodes)} modules", file=out)
    return 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("src", help="the crate's src/ directory")
    parser.add_argument("--tests", action="store_true", help="count #[cfg(test)] code too")
    parser.add_argument("--edges", action="store_true", help="list every edge first")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.src):
        print(f"{args.src}: not a directory", file=sys.stderr)
        return 2
    crate = Crate(args.src, args.tests)
    if args.edges:
        for e in sorted(crate.edges(), key=lambda e: (e.src, e.dst, e.line)):
            print(f"{crate.files[e.src].rel}:{e.line} -> {crate.files[e.dst].rel}")
    return report(crate)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
