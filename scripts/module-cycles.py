#!/usr/bin/env python3
"""Finds import cycles between the modules of each crate of the workspace.

Every `crate::a::b` and `super::x` path in a module's file (use lines and inline paths) is an
edge from that module to the module it names. An edge between two modules is lifted to the
two siblings under their lowest common ancestor (`crate::families::commit` using
`crate::output::rows` is an edge families -> output), and each set of siblings must form a
graph without cycles. A module using its own ancestor (`super::measure` from a child) is not a
sibling edge and is allowed: the parent is the child's namespace.

Usage: scripts/module-cycles.py [--edges] [CRATE_SRC_DIR...]  (default: every crate's src/)
--edges also prints each crate's top-level modules with the modules they use.
Exit status 1 when a cycle exists, listing each one.
"""
import os, re, sys
from collections import defaultdict

PATH = re.compile(r'\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)')
GROUP = re.compile(r'\b(crate|super)::\{([^;]*?)\}', re.S)


def modules(src):
    """Map module path (tuple) -> file, for every .rs file under src."""
    out = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith('.rs'):
                continue
            rel = os.path.relpath(os.path.join(root, f), src)
            parts = rel[:-3].split(os.sep)
            if parts[-1] in ('mod', 'lib', 'main'):
                parts = parts[:-1]
            if rel in ('main.rs',) :
                continue  # the binary is its own crate
            out[tuple(parts)] = os.path.join(root, f)
    return out


def strip_comments(text):
    text = re.sub(r'//[^\n]*', '', text)
    return re.sub(r'/\*.*?\*/', '', text, flags=re.S)


def resolve(mods, here, base, rest):
    start = () if base == 'crate' else here[:-1]
    names = [n for n in rest.split('::') if n]
    while names and names[0] == 'super':
        start, names = start[:-1], names[1:]
    path = start
    best = start
    for n in names:
        path = path + (n,)
        if path in mods:
            best = path
        else:
            break
    return best


def targets_of(mods, here, text):
    found = set()
    for m in PATH.finditer(text):
        found.add(resolve(mods, here, m.group(1), m.group(2)))
    for m in GROUP.finditer(text):
        for item in re.split(r'[,{}\s]+', m.group(2)):
            head = item.split('::')[0]
            if head and head != 'self':
                found.add(resolve(mods, here, m.group(1), '::' + item.replace(' ', '')))
    return found


def cycles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]; counter[0] += 1
        stack.append(v); on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def check(src, edges=False):
    mods = modules(src)
    graph = defaultdict(set)
    why = {}
    for here, file in mods.items():
        with open(file) as f:
            text = strip_comments(f.read())
        for there in targets_of(mods, here, text):
            common = 0
            while common < min(len(here), len(there)) and here[common] == there[common]:
                common += 1
            if common == len(here) or common == len(there):
                continue  # ancestor or descendant: not a sibling edge
            a, b = here[:common + 1], there[:common + 1]
            graph[a].add(b); graph[b]
            why.setdefault((a, b), (here, there))
    found = cycles(graph)
    if edges:
        for a in sorted(m for m in graph if len(m) == 1):
            used = sorted('::'.join(b) for b in graph[a] if len(b) == 1)
            print(f"{src}: {'::'.join(a)} -> {', '.join(used) or '-'}")
    for comp in found:
        names = ', '.join('::'.join(c) for c in comp)
        print(f"{src}: cycle between {names}")
        members = set(comp)
        for a in comp:
            for b in sorted(graph[a]):
                if b in members:
                    h, t = why[(a, b)]
                    print(f"    {'::'.join(a)} -> {'::'.join(b)}  ({'::'.join(h)} uses {'::'.join(t)})")
    return len(found)


def main():
    args = sys.argv[1:]
    edges = '--edges' in args
    srcs = [a for a in args if a != '--edges'] or [d + '/src' for d in ('workloads', 'targets', 'harness')]
    total = sum(check(s, edges) for s in srcs)
    print(f"{total} cycle(s)")
    sys.exit(1 if total else 0)


if __name__ == '__main__':
    main()
