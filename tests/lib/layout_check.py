#!/usr/bin/env python3
"""The layout rules of src/ (README, "Layout"), checked by `make lint`:

- the pure modules (kernels, quant, search, hnsw, ivf, page, and the pure
  files of types) never use pgrx;
- the import graph between modules has no cycle, and nothing in types/
  imports an index, storage or the planner;
- no source file is over 1,000 lines before its tests.

Imports are read from `crate::a::b` and `super::` paths in the source, so a
module's use of another counts wherever it is written. Exits 1 and says what
is wrong.
"""
import os
import re
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "src")
PURE = ["kernels", "quant", "search", "hnsw", "ivf", "page"]
PURE_FILES = ["types/literal.rs", "types/sparse.rs", "types/wire.rs", "am/hnsw/options/stored.rs"]
# The modules the graph is drawn between: top-level folders, and am's own.
SPLIT = {"am"}
MAX_LINES = 1000


def module_of(path):
    """`am/hnsw/scan.rs` -> `am::hnsw`, `storage/graph.rs` -> `storage`, `lib.rs` -> `lib`."""
    parts = path[:-3].split("/")
    if parts[-1] == "mod":
        parts = parts[:-1]
    if not parts:
        return "lib"
    if parts[0] in SPLIT and len(parts) > 1:
        # am/column.rs and am/filter.rs are modules of am itself.
        return "::".join(parts[:2]) if os.path.isdir(os.path.join(SRC, *parts[:2])) else parts[0]
    return parts[0]


def resolve(module, path, target):
    """The module a `crate::...` or `super::...` path names, at graph granularity."""
    if target.startswith("crate::"):
        names = target[len("crate::"):].split("::")
    else:
        # super:: from a file: its parent module's path.
        here = path[:-3].split("/")
        if here[-1] == "mod":
            here = here[:-1]
        names = here[:-1] + target[len("super::"):].split("::")
    if not names or not names[0]:
        return None
    if names[0] in SPLIT and len(names) > 1 and os.path.isdir(os.path.join(SRC, names[0], names[1])):
        return "::".join(names[:2])
    return names[0]


def code_before_tests(text):
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if re.match(r"#\[cfg\(test\)\]", line.strip()) and i + 1 < len(lines) and re.match(r"\s*mod \w+", lines[i + 1]):
            return i
    return len(lines)


def main():
    problems = []
    edges = defaultdict(set)
    for folder, _, files in os.walk(SRC):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.relpath(os.path.join(folder, name), SRC)
            text = open(os.path.join(SRC, path), encoding="utf-8").read()
            module = module_of(path)
            is_test_file = name == "tests.rs" or name.endswith("_tests.rs")
            if not is_test_file and code_before_tests(text) > MAX_LINES:
                problems.append(f"src/{path}: {code_before_tests(text)} lines before its tests (at most {MAX_LINES})")
            pure = path.split("/")[0] in PURE or path in PURE_FILES
            if pure and re.search(r"\bpgrx\b", re.sub(r"//.*", "", text)):
                problems.append(f"src/{path}: a pure module uses pgrx")
            if is_test_file:
                continue
            code = text[: sum(len(l) + 1 for l in text.split("\n")[: code_before_tests(text)])]
            code = re.sub(r"//.*", "", code)
            for target in re.findall(r"\b(crate::[a-z0-9_]+(?:::[a-z0-9_]+)?|super::[a-z0-9_]+(?:::[a-z0-9_]+)?)", code):
                other = resolve(module, path, target)
                if other and other != module and not module.startswith(other + "::") and not other.startswith(module + "::"):
                    edges[module].add(other)
                elif other and other != module and module.startswith(other + "::"):
                    # A child using its parent's items: an arrow to the parent.
                    edges[module].add(other)
    for module, targets in edges.items():
        if module == "types" or module.startswith("types"):
            for bad in targets:
                if bad.split("::")[0] in ("am", "storage", "planner", "hnsw", "ivf", "search"):
                    problems.append(f"types imports {bad}: the types must not depend on an index")
    # Cycles, by depth-first search.
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt):] + [nxt]
                problems.append("import cycle: " + " -> ".join(cycle))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    for problem in problems:
        print(problem)
    if "-v" in sys.argv:
        for module in sorted(edges):
            print(f"{module} -> {', '.join(sorted(edges[module]))}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
