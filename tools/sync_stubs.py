"""Keep the parts of src/wasmtime/__init__.pyi that have a source elsewhere.

`__all__` is written once, in src/wasmtime/__init__.py; the stub's copy
between the `<all:begin>`/`<all:end>` markers is generated from it.  (TrapCode
needs no copy: the stub imports it from wasmtime/_enums.py.)

  python tools/sync_stubs.py          rewrite the stub
  python tools/sync_stubs.py --check  exit 1 if the stub is out of date
"""

import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, "src", "wasmtime")
BEGIN = "# <all:begin>\n"
END = "# <all:end>\n"


def runtime_all():
    with open(os.path.join(PKG, "__init__.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise SystemExit("no __all__ in src/wasmtime/__init__.py")


def rendered(stub):
    names = runtime_all()
    block = "__all__ = [\n" + "".join('    "%s",\n' % n for n in names) + "]\n"
    head, rest = stub.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + block + END + tail


def main():
    path = os.path.join(PKG, "__init__.pyi")
    with open(path, encoding="utf-8") as f:
        stub = f.read()
    new = rendered(stub)
    if "--check" in sys.argv[1:]:
        if new != stub:
            print("src/wasmtime/__init__.pyi is out of date: run python tools/sync_stubs.py")
            return 1
        return 0
    if new != stub:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
