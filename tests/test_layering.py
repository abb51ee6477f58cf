"""The C extension is built in floors, and this test keeps it so.

It reads every file under src/ext, finds the non-static symbols each .c file
defines and the files that use them, adds the #include edges, and checks:

- every file has a floor (FLOORS below; a new file must be given one);
- no edge goes up: a file uses only its own floor or lower ones;
- the files of floor 4 (one per Python type) never use each other;
- the graph has no cycle.

docs/architecture.md describes the floors.  The checker itself is tested on
a copy of the sources with a deliberately added upward call.
"""

import os
import re
import shutil

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src", "ext")

FLOOR_NAMES = {
    1: "state",
    2: "foundations",
    3: "runtime",
    4: "types",
    5: "extension",
}

FLOORS = {
    # 1: module state and registration helpers
    "state.h": 1,
    "state.c": 1,
    # 2: errors, argument parsing, wasm input, value kinds, wasm type classes
    "base.h": 2,
    "errors.c": 2,
    "trap.c": 2,
    "args.c": 2,
    "kinds.c": 2,
    "wat.c": 2,
    "ctypes.c": 2,
    "artifact.c": 2,
    "managed.c": 2,
    "types/valtype.c": 2,
    "types/limits.c": 2,
    "types/externtypes.c": 2,
    "types/importexport.c": 2,
    "types/fieldtype.c": 2,
    # 3: store-bound runtime shared by the types
    "runtime.h": 3,
    "wasmcall.h": 3,
    "storectx.c": 3,
    "handles.c": 3,
    "convert.c": 3,
    "hostfunc.c": 3,
    "interrupt.c": 3,
    "exn.c": 3,
    "gcref.c": 3,
    "linkdefs.c": 3,
    "asynccall.c": 3,
    "component/component.h": 3,
    "component/cplan.c": 3,
    "component/cval.c": 3,
    "component/cvalout.c": 3,
    "component/citems.c": 3,
    "component/chost.c": 3,
    "component/cahost.c": 3,
    # 4: one file per Python type
    "config.c": 4,
    "engine.c": 4,
    "store.c": 4,
    "module.c": 4,
    "val.c": 4,
    "func.c": 4,
    "caller.c": 4,
    "global.c": 4,
    "table.c": 4,
    "tag.c": 4,
    "memory.c": 4,
    "sharedmemory.c": 4,
    "instance.c": 4,
    "wasi.c": 4,
    "linker.c": 4,
    "instancepre.c": 4,
    "storecontext.c": 4,
    "callfuture.c": 4,
    "component/component.c": 4,
    "component/exportindex.c": 4,
    "component/linker.c": 4,
    "component/linkerinstance.c": 4,
    "component/instance.c": 4,
    "component/func.c": 4,
    "component/types.c": 4,
    "component/valtypes.c": 4,
    "component/resources.c": 4,
    "component/values.c": 4,
    "externref.c": 4,
    "anyref.c": 4,
    "structref.c": 4,
    "arrayref.c": 4,
    "exnref.c": 4,
    "gctype.c": 4,
    # 5: module init, the only caller of every *_register
    "extension.c": 5,
}

TYPES_FLOOR = 4


def _strip(text):
    """C text without comments, string and character literals."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    text = re.sub(r"'(\\.|[^'\\\n])*'", "''", text)
    return text


_IDENT = re.compile(r"[A-Za-z_]\w*")


def _defined_symbols(text):
    """Non-static functions and variables defined at file scope of a .c file."""
    symbols = set()
    lines = text.split("\n")
    depth = 0
    for i, line in enumerate(lines):
        if depth == 0 and not line.startswith((" ", "\t", "#", "}")):
            # `type\nname(args)\n{`: the project's definition style.
            m = re.match(r"([A-Za-z_]\w*)\s*\(", line)
            if (
                m
                and i > 0
                and lines[i - 1].strip()
                and not lines[i - 1].startswith(("static", "#", "}"))
                and _opens_body(lines, i)
            ):
                symbols.add(m.group(1))
            # `type name = ...;` / `type name[] = {` / `type *name;`
            m = re.match(
                r"(?!static\b|typedef\b|extern\b)[\w\s\*]*?\b([A-Za-z_]\w*)\s*"
                r"(\[\w*\])?\s*(=|;)",
                line,
            )
            if m and "(" not in line.split("=")[0]:
                symbols.add(m.group(1))
        depth += line.count("{") - line.count("}")
    return symbols


def _opens_body(lines, i):
    """Whether the parameter list starting on line i is followed by `{`."""
    depth = 0
    for j in range(i, min(i + 20, len(lines))):
        depth += lines[j].count("(") - lines[j].count(")")
        if depth <= 0:
            rest = lines[j].rsplit(")", 1)[-1].strip()
            if rest == "{":
                return True
            return rest == "" and j + 1 < len(lines) and lines[j + 1].strip() == "{"
    return False


def _header_uses(text):
    """Identifiers a header really uses: in macro and inline function bodies,
    not in prototypes (a declaration is not a use)."""
    used = []
    depth = 0
    in_macro = False
    for line in text.split("\n"):
        starts_macro = line.lstrip().startswith("#define")
        if starts_macro or in_macro:
            body = (
                line.split(None, 2)[2]
                if starts_macro and len(line.split(None, 2)) > 2
                else ("" if starts_macro else line)
            )
            used += _IDENT.findall(body)
            in_macro = line.rstrip().endswith("\\")
            continue
        if depth > 0:
            used += _IDENT.findall(line)
        depth += line.count("{") - line.count("}")
    return set(used)


def build_graph(src):
    """{file: {target: [reasons]}} for every .c/.h file under `src`."""
    files = {}
    for dirpath, _, names in os.walk(src):
        for name in names:
            if name.endswith((".c", ".h")):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, src).replace(os.sep, "/")
                with open(path, encoding="utf-8") as f:
                    files[rel] = f.read()
    stripped = {rel: _strip(text) for rel, text in files.items()}
    owner = {}
    for rel, text in stripped.items():
        if rel.endswith(".c"):
            for sym in _defined_symbols(text):
                owner.setdefault(sym, rel)
    edges = {rel: {} for rel in files}
    for rel, text in files.items():
        base = os.path.dirname(rel)
        for inc in re.findall(r'^\s*#\s*include\s+"([^"]+)"', text, flags=re.M):
            target = os.path.normpath(os.path.join(base, inc)).replace(os.sep, "/")
            edges[rel].setdefault(target, []).append('#include "%s"' % inc)
        uses = (
            _header_uses(stripped[rel])
            if rel.endswith(".h")
            else set(_IDENT.findall(stripped[rel]))
        )
        for sym in sorted(uses):
            target = owner.get(sym)
            if target is not None and target != rel:
                edges[rel].setdefault(target, []).append(sym)
    return edges


def check(src, floors):
    """Every violation of the layering rules, as readable lines."""
    edges = build_graph(src)
    problems = []
    for rel in sorted(edges):
        if rel not in floors:
            problems.append(
                "%s has no floor: add it to FLOORS in tests/test_layering.py "
                "(and to docs/architecture.md)" % rel
            )
    for rel in sorted(edges):
        for target, why in sorted(edges[rel].items()):
            if rel not in floors or target not in floors:
                continue
            a, b = floors[rel], floors[target]
            label = "%s (floor %d %s) -> %s (floor %d %s) via %s" % (
                rel,
                a,
                FLOOR_NAMES[a],
                target,
                b,
                FLOOR_NAMES[b],
                ", ".join(why[:5]),
            )
            if b > a:
                problems.append("upward edge: " + label)
            elif a == b == TYPES_FLOOR and rel.endswith(".c") and target.endswith(".c"):
                problems.append("type files must not use each other: " + label)
    # Cycles among the .c files (a header and the files that implement it
    # point at each other by nature; their direction is checked above).
    edges = {
        rel: {t: w for t, w in out.items() if t.endswith(".c")}
        for rel, out in edges.items()
        if rel.endswith(".c")
    }
    color = dict.fromkeys(edges, 0)
    for start in sorted(edges):
        if color[start]:
            continue
        stack = [(start, iter(sorted(edges[start])))]
        path = [start]
        color[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                color[node] = 2
                continue
            if nxt not in color:
                continue
            if color[nxt] == 1:
                cycle = path[path.index(nxt) :] + [nxt]
                problems.append("cycle: " + " -> ".join(cycle))
            elif color[nxt] == 0:
                color[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(sorted(edges[nxt]))))
    return problems


def test_every_file_has_a_floor_and_no_edge_goes_up():
    problems = check(SRC, FLOORS)
    assert not problems, "layering violations:\n  " + "\n  ".join(problems)


def test_floors_table_names_only_existing_files():
    missing = [rel for rel in FLOORS if not os.path.exists(os.path.join(SRC, rel))]
    assert not missing, "FLOORS names files that do not exist: %s" % missing


def test_the_graph_sees_real_edges():
    # A checker that sees nothing would pass everything: make sure it sees
    # the edges we know are there.
    edges = build_graph(SRC)
    assert "storectx.c" in edges["func.c"]  # ext_resolve_store
    assert "errors.c" in edges["linker.c"]  # ext_raise_error
    assert "linker.c" in edges["extension.c"]  # linker_register
    assert "args.c" in edges["base.h"]  # ext_parse_args in EXT_KW1
    assert "state.h" in edges["base.h"]  # #include


def _copy_src(tmp_path):
    dst = tmp_path / "ext"
    shutil.copytree(SRC, dst)
    return str(dst)


def test_an_added_upward_call_is_reported(tmp_path):
    src = _copy_src(tmp_path)
    # errors.c (floor 2) calling a function of store.c's floor-3 helpers.
    with open(os.path.join(src, "errors.c"), "a") as f:
        f.write("\nint\nerrors_probe(void)\n{\n    return ext_store_usable(NULL);\n}\n")
    problems = check(src, FLOORS)
    assert any(
        p.startswith(
            "upward edge: errors.c (floor 2 foundations) -> storectx.c "
            "(floor 3 runtime) via ext_store_usable"
        )
        for p in problems
    ), problems


def test_type_files_using_each_other_are_reported(tmp_path):
    src = _copy_src(tmp_path)
    with open(os.path.join(src, "memory.c"), "a") as f:
        f.write("\nint\nmemory_probe(void)\n{\n    return linker_register(NULL, NULL);\n}\n")
    problems = check(src, FLOORS)
    assert any(
        "type files must not use each other: memory.c" in p and "linker.c" in p for p in problems
    ), problems


def test_a_cycle_is_reported(tmp_path):
    src = _copy_src(tmp_path)
    # Two floor-3 files calling each other: no upward edge, but a cycle.
    with open(os.path.join(src, "storectx.c"), "a") as f:
        f.write("\nvoid\nstorectx_probe(void)\n{\n    ext_val_release(NULL);\n}\n")
    with open(os.path.join(src, "convert.c"), "a") as f:
        f.write("\nvoid\nconvert_probe(void)\n{\n    storectx_probe();\n}\n")
    problems = check(src, FLOORS)
    assert any(
        p.startswith("cycle:") and "convert.c" in p and "storectx.c" in p for p in problems
    ), problems


def test_a_new_file_without_floor_is_reported(tmp_path):
    src = _copy_src(tmp_path)
    with open(os.path.join(src, "newtype.c"), "w") as f:
        f.write('#include "runtime.h"\n')
    problems = check(src, FLOORS)
    assert any(p.startswith("newtype.c has no floor") for p in problems), problems


@pytest.mark.parametrize("path", sorted(FLOORS))
def test_no_c_file_is_over_800_lines(path):
    with open(os.path.join(SRC, path), encoding="utf-8") as f:
        n = sum(1 for _ in f)
    # linker.c is the one type whose methods need more room; see
    # docs/architecture.md ("file size").
    limit = 900 if path == "linker.c" else 800
    assert n <= limit, "%s has %d lines (limit %d): split it" % (path, n, limit)
