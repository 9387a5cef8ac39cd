#!/usr/bin/env python3
"""check-arch - the module map of src/modules.txt, checked against the tree.

  tests/arch/check-arch.py [--root DIR] [--objects DIR]   check (make check-arch)
  tests/arch/check-arch.py [--root DIR] --closure MODULE  what MODULE may use,
                                                          transitively, itself first
  tests/arch/check-arch.py [--root DIR] --unit-links      the Makefile's link list
                                                          of each unit test

A unit test tests/unit/test_<module>.c links <module>, what it may use
(transitively), fake_pool_owners.c when pool is among them (pools.def: each
pool's owner defines its element size), and the fakes that its top comment
names (tests/unit/fake_<name>.c): nothing else, so that a call the list does
not declare fails to link.

The check fails, with one line per finding naming the file, the module and
the dependency, when:
  - a file of src/ or src/compat/ includes a header of a module that
    src/modules.txt does not let its module use;
  - a module's header has no "Calls" sentence in its top comment, or the
    modules that sentence names are not exactly the list's;
  - docs/DESIGN.md's module table ("may call") names other modules than
    the list, or leaves a module out;
  - a module of src/ is missing from the list, or the list names one that
    does not exist; a unit test tests/unit/test_<x>.c tests no module of the
    list, or its top comment names a fake that tests/unit/ lacks;
  - with --objects (the build's obj/ directory): an object refers to a
    symbol defined by another module's object that its module may not use
    (a call or a variable reached through a header included indirectly).
"""
import argparse
import os
import re
import subprocess
import sys

COMPAT = "compat"
GENERATED = {"web_assets": "web"}  # objects built from generated sources
OWNER_SYMBOL = re.compile(r"^pool_element_size_\w+$")  # pools.def: each owner's


class Map:
    def __init__(self, path):
        self.path = path
        self.common = set()
        self.deps = {}
        self.line = {}
        self.errors = []
        with open(path, encoding="utf-8") as f:
            for n, raw in enumerate(f, 1):
                text = raw.split("#", 1)[0].strip()
                if not text:
                    continue
                m = re.fullmatch(r"(\*|[a-z_][a-z0-9_]*):\s*(.*)", text)
                if not m:
                    self.errors.append(f"{path}:{n}: not 'module: modules...': {text!r}")
                    continue
                name, rest = m.group(1), m.group(2).split()
                if name == "*":
                    self.common = set(rest)
                    continue
                if name in self.deps:
                    self.errors.append(f"{path}:{n}: {name} is listed twice")
                self.deps[name] = set(rest)
                self.line[name] = n
        for name, deps in self.deps.items():
            for d in sorted(deps):
                if d == name:
                    self.errors.append(f"{path}:{self.line[name]}: {name} lists itself")
                elif d not in self.deps:
                    self.errors.append(
                        f"{path}:{self.line[name]}: {name} may use '{d}', which is no module of the list"
                    )

    def allows(self, module, dep):
        return dep == module or dep in self.common or dep in self.deps.get(module, ())

    def listed(self, module):
        return " ".join(sorted(self.deps.get(module, ()))) or "nothing"

    def closure(self, module):
        seen, todo = [module], [module]
        while todo:
            for d in sorted(self.deps.get(todo.pop(), ())):
                if d not in seen:
                    seen.append(d)
                    todo.append(d)
        return seen


def source_files(root):
    """(path relative to root, module) of every C file of src/ and src/compat/."""
    out = []
    for sub in ("src", os.path.join("src", COMPAT)):
        d = os.path.join(root, sub)
        for name in sorted(os.listdir(d)):
            base, ext = os.path.splitext(name)
            if ext in (".c", ".h") or name == "pools.def":
                module = "pool" if name == "pools.def" else base
                out.append((os.path.join(sub, name), module))
    return out


def header_module(include):
    base = os.path.basename(include)
    if base == "pools.def":
        return "pool"
    return os.path.splitext(base)[0]


def check_includes(root, amap, files, errors):
    for rel, module in files:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m:
                    continue
                dep = header_module(m.group(1))
                if not amap.allows(module, dep):
                    errors.append(
                        f"{rel}:{n}: {module} includes {m.group(1)}, but {amap.path} does not let "
                        f"{module} use {dep} ({module}: {amap.listed(module)})"
                    )


def modules_named(text, amap):
    """The modules a sentence names, parenthesised remarks left out."""
    while True:
        stripped = re.sub(r"\([^()]*\)", " ", text)
        if stripped == text:
            break
        text = stripped
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_./]*", text)
    names = set()
    for w in words:
        w = w.rstrip(".")
        if w.startswith(COMPAT + "/"):
            w = w[len(COMPAT) + 1 :]
        if w in amap.deps or w in amap.common:
            names.add(w)
    return names


def calls_sentence(path):
    """The "Calls ..." sentence of a header's top comment, or None."""
    with open(path, encoding="utf-8") as f:
        src = f.read()
    m = re.match(r"\s*/\*(.*?)\*/", src, re.S)
    if not m:
        return None
    comment = " ".join(re.sub(r"^\s*\*?", "", l) for l in m.group(1).splitlines())
    comment = re.sub(r"\s+", " ", comment)
    c = re.search(r"\b[Cc]alls\b", comment)
    if not c:
        return None
    rest = comment[c.end() :]
    # The sentence ends at a full stop outside parentheses.
    depth = 0
    for i, ch in enumerate(rest):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "." and depth == 0 and (i + 1 == len(rest) or rest[i + 1] == " "):
            return rest[:i]
    return rest


def check_calls_lines(root, amap, files, errors):
    for rel, module in files:
        if not rel.endswith(".h") or module in amap.common:
            continue
        if module not in amap.deps:
            continue  # reported by check_listed
        sentence = calls_sentence(os.path.join(root, rel))
        if sentence is None:
            errors.append(f"{rel}:1: the top comment of {module} has no 'Calls ...' sentence")
            continue
        named = modules_named(sentence, amap) - amap.common
        want = amap.deps[module]
        for d in sorted(want - named):
            errors.append(
                f"{rel}: {module}'s 'Calls' sentence leaves out {d}, which {amap.path} lets {module} use"
            )
        for d in sorted(named - want):
            errors.append(
                f"{rel}: {module}'s 'Calls' sentence names {d}, but {amap.path} does not let "
                f"{module} use {d} ({module}: {amap.listed(module)})"
            )


def check_design(root, amap, errors):
    rel = os.path.join("docs", "DESIGN.md")
    rows = {}
    in_table = False
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if re.match(r"\|\s*module\s*\|\s*owns\s*\|\s*may call\s*\|", line):
                in_table = True
                continue
            if not in_table:
                continue
            if not line.startswith("|"):
                break
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) != 3 or set(cells[0]) <= set("-"):
                continue
            first = re.search(r"`([^`]+)`", cells[0])
            if not first:
                errors.append(f"{rel}:{n}: module table row without a `module`: {cells[0]}")
                continue
            name = re.sub(r"\.(c|h)$", "", first.group(1))
            if name.startswith(COMPAT + "/"):
                name = name[len(COMPAT) + 1 :]
            rows[name] = (n, modules_named(cells[2], amap) - amap.common)
    if not rows:
        errors.append(f"{rel}: no module table ('| module | owns | may call |')")
        return
    for name, (n, named) in sorted(rows.items()):
        if name in amap.common:
            continue
        if name not in amap.deps:
            errors.append(f"{rel}:{n}: the module table lists {name}, which {amap.path} does not")
            continue
        want = amap.deps[name]
        for d in sorted(want - named):
            errors.append(
                f"{rel}:{n}: the module table's 'may call' of {name} leaves out {d}, which "
                f"{amap.path} lets {name} use"
            )
        for d in sorted(named - want):
            errors.append(
                f"{rel}:{n}: the module table's 'may call' of {name} names {d}, but {amap.path} "
                f"does not let {name} use {d} ({name}: {amap.listed(name)})"
            )
    for name in sorted(set(amap.deps) - set(rows)):
        if name != "libcrypto":  # shares sslcompat's row (compat/sslcompat, libcrypto.so)
            errors.append(f"{rel}: the module table has no row for {name} ({amap.path} has)")


def check_listed(amap, files, errors):
    present = {m for _, m in files}
    for m in sorted(present - set(amap.deps) - amap.common):
        errors.append(f"src: module {m} is not in {amap.path}: add '{m}: <modules it uses>'")
    for m in sorted(set(amap.deps) - present):
        errors.append(f"{amap.path}:{amap.line[m]}: {m} is listed but src/ has no {m}.c or {m}.h")


def check_objects(amap, objdir, errors):
    defined, undefined = {}, {}
    for name in sorted(os.listdir(objdir)):
        if not name.endswith(".o"):
            continue
        module = GENERATED.get(name[:-2], name[:-2])
        out = subprocess.run(
            ["nm", "-P", os.path.join(objdir, name)], capture_output=True, text=True, check=True
        ).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            sym, kind = parts[0], parts[1]
            if kind == "U":
                undefined.setdefault(module, set()).add(sym)
            elif kind.isupper():
                defined[sym] = module
    for module in sorted(undefined):
        for sym in sorted(undefined[module]):
            owner = defined.get(sym)
            if owner is None or amap.allows(module, owner):
                continue
            if module == "pool" and OWNER_SYMBOL.match(sym):
                continue
            errors.append(
                f"{objdir}/{module}.o: {module} uses {sym} of {owner}, but {amap.path} does not let "
                f"{module} use {owner} ({module}: {amap.listed(module)})"
            )


NOT_OBJECTS = {"sslcompat", "libcrypto"}  # shared libraries of their own (COMPAT_LIBS)


def unit_links(amap, errors):
    """Make rules: each unit test's objects, from the list."""
    lines = ["# written by tests/arch/check-arch.py --unit-links from src/modules.txt"]
    unit = os.path.join("tests", "unit")
    for name in sorted(os.listdir(unit)):
        m = re.fullmatch(r"test_([a-z0-9_]+)\.c", name)
        if not m:
            continue
        module = m.group(1)
        if module not in amap.deps:
            errors.append(f"{unit}/{name}: tests {module}, which is no module of {amap.path}")
            continue
        mods = amap.closure(module)
        objs = [f"$(OUT)/obj/{d}.o" for d in mods if d not in NOT_OBJECTS]
        if "web" in mods:
            objs.append("$(filter $(OUT)/obj/web_assets.o,$(OBJECTS))")
        with open(os.path.join(unit, name), encoding="utf-8") as f:
            top = re.match(r"\s*/\*(.*?)\*/", f.read(), re.S)
        fakes = re.findall(r"\bfake_[a-z0-9_]+\.c\b", top.group(1) if top else "")
        if "pool" in mods:
            fakes.insert(0, "fake_pool_owners.c")
        for fake in dict.fromkeys(fakes):
            if not os.path.exists(os.path.join(unit, fake)):
                errors.append(f"{unit}/{name}: names {fake}, which tests/unit/ does not have")
            objs.append(f"$(OUT)/tests/{fake[:-2]}.o")
        lines.append(f"$(OUT)/tests/test_{module}: " + " ".join(dict.fromkeys(objs)))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--objects")
    ap.add_argument("--closure")
    ap.add_argument("--unit-links", action="store_true")
    args = ap.parse_args()
    root = os.path.normpath(args.root)
    os.chdir(root)
    amap = Map(os.path.join("src", "modules.txt"))
    if args.closure:
        if amap.errors or args.closure not in amap.deps:
            sys.exit(f"check-arch: {args.closure} is not a module of {amap.path}")
        print(" ".join(amap.closure(args.closure)))
        return 0
    errors = list(amap.errors)
    if args.unit_links:
        lines = unit_links(amap, errors)
        for e in errors:
            print(f"check-arch: {e}", file=sys.stderr)
        if errors:
            return 1
        print("\n".join(lines))
        return 0
    files = source_files(".")
    check_listed(amap, files, errors)
    check_includes(".", amap, files, errors)
    check_calls_lines(".", amap, files, errors)
    check_design(".", amap, errors)
    unit_links(amap, errors)
    if args.objects:
        check_objects(amap, args.objects, errors)
    for e in errors:
        print(f"check-arch: {e}")
    n = len(amap.deps)
    if errors:
        print(f"check-arch: {len(errors)} finding(s) in the map of {n} modules")
        return 1
    print(f"check-arch: {n} modules, every include, Calls line and DESIGN.md row as src/modules.txt says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
