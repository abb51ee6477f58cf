"""Typed Python bindings for components: ``python -m wasmtime.bindgen``.

    python -m wasmtime.bindgen COMPONENT.wasm --out-dir DIR [--name PKG]

writes a package (``DIR``, or ``DIR/PKG`` with ``--name``) whose ``Root``
class instantiates the component; ``bind(component)`` returns the same
classes as a module, without writing files.  The generator reads the
component's types through ``Component.type``; values are converted by the C
converter of ``wasmtime.component`` through class tables.  See
docs/bindgen.md.
"""

import argparse
import os
import sys
import types
from typing import List, Optional

from .. import Engine
from ..component import Component
from ._gen import generate_source
from ._runtime import Err, Ok, Result, Some

__all__ = ["Ok", "Err", "Some", "Result", "generate", "bind", "main"]

_FILE_LOAD = """\
    # component.cwasm is what `python -m wasmtime.bindgen` compiled: trusted,
    # and refused by Wasmtime when this Engine's configuration differs.
    here = _os.path.dirname(_os.path.abspath(__file__))
    try:
        return _Component.deserialize_file(engine, _os.path.join(here, "component.cwasm"))
    except (OSError, _WasmtimeError):
        return _Component.from_file(engine, _os.path.join(here, "component.wasm"))"""

_BIND_LOAD = """\
    if engine is not _COMPONENT_ENGINE:
        raise _WasmtimeError(
            "this binding was made from a Component of another Engine: "
            "create the Store with that Engine"
        )
    return _COMPONENT"""


def generate(component: Component, title: str = "a component") -> str:
    """The source of the bindings module for `component`."""
    if not isinstance(component, Component):
        raise TypeError(
            "expected a wasmtime.component.Component, got %s" % type(component).__name__
        )
    return generate_source(component, component._engine, _FILE_LOAD, title)


def bind(component: Component, name: str = "wasmtime_bindings") -> types.ModuleType:
    """The bindings of `component` as a module (nothing is written)."""
    if not isinstance(component, Component):
        raise TypeError(
            "expected a wasmtime.component.Component, got %s" % type(component).__name__
        )
    src = generate_source(component, component._engine, _BIND_LOAD, name)
    mod = types.ModuleType(name)
    mod.__dict__["_COMPONENT"] = component
    mod.__dict__["_COMPONENT_ENGINE"] = component._engine
    # dataclasses look the module up in sys.modules while the class body runs.
    saved = sys.modules.get(name)
    sys.modules[name] = mod
    try:
        exec(compile(src, "<wasmtime.bindgen %s>" % name, "exec"), mod.__dict__)
    finally:
        if saved is None:
            del sys.modules[name]
        else:
            sys.modules[name] = saved
    return mod


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m wasmtime.bindgen",
        description="Write a Python package of typed bindings for a component.",
    )
    p.add_argument("component", help="the component (.wasm binary or .wat text)")
    p.add_argument("--out-dir", required=True, help="where to write the package")
    p.add_argument("--name", help="package name: write DIR/NAME instead of DIR itself")
    args = p.parse_args(argv)
    engine = Engine()
    try:
        component = Component.from_file(engine, args.component)
    except Exception as e:  # noqa: BLE001 - reported, not raised
        print("wasmtime.bindgen: cannot load %s: %s" % (args.component, e), file=sys.stderr)
        return 1
    out = args.out_dir if args.name is None else os.path.join(args.out_dir, args.name)
    title = os.path.basename(args.component)
    try:
        src = generate_source(component, engine, _FILE_LOAD, title)
    except NotImplementedError as e:
        print("wasmtime.bindgen: %s" % e, file=sys.stderr)
        return 1
    os.makedirs(out, exist_ok=True)
    with open(args.component, "rb") as f:
        wasm = f.read()
    with open(os.path.join(out, "component.wasm"), "wb") as f:
        f.write(wasm)
    with open(os.path.join(out, "component.cwasm"), "wb") as f:
        f.write(component.serialize())
    with open(os.path.join(out, "__init__.py"), "w") as f:
        f.write(src)
    open(os.path.join(out, "py.typed"), "w").close()
    print("wrote %s" % out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
