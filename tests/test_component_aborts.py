"""The five ways wasmtime-py 50.0.1 aborts the interpreter with components
raise a Python exception here instead.  Each case runs in a fresh
interpreter, so an abort fails one test rather than the run."""

import textwrap

import pytest

PRELUDE = """
import sys
sys.path.insert(0, %r)
from component_wat import PLAIN, echo
from wasmtime import Engine, Store, WasiConfig, WasmtimeError
from wasmtime.component import *
engine = Engine()
"""


def run(run_python, body):
    import os

    code = PRELUDE % os.path.dirname(os.path.abspath(__file__)) + textwrap.dedent(body)
    proc = run_python(code)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("done"), proc.stdout + proc.stderr


def test_func_with_wrong_store(run_python):
    run(
        run_python,
        """
        s1, s2 = Store(engine), Store(engine)
        inst = Linker(engine).instantiate(s1, Component(engine, PLAIN))
        f = inst.get_func(s1, "add")
        for call in (lambda: f(s2, 1, 2), lambda: f.type(s2), lambda: inst.get_func(s2, "add"),
                     lambda: inst.get_export_index(s2, "add")):
            try:
                call()
            except WasmtimeError as e:
                assert "wrong store" in str(e)
            else:
                raise AssertionError("no error")
        assert f(s1, 1, 2) == 3
        print("done")
        """,
    )


def test_surrogate_char(run_python):
    run(
        run_python,
        """
        s = Store(engine)
        f = Linker(engine).instantiate(s, Component(engine, PLAIN)).get_func(s, "f")
        try:
            f(s, "\\ud800")
        except ValueError:
            pass
        f(s, "a")
        # and from a host function
        linker = Linker(engine)
        with linker.root() as r:
            r.add_func("x", lambda ctx, v: "\\udfff")
        g = linker.instantiate(s, Component(engine, echo("char", ["i32"], "i32"))).get_func(s, "x")
        try:
            g(s, "a")
        except ValueError:
            pass
        else:
            raise AssertionError("no error")
        print("done")
        """,
    )


def test_wasip2_without_set_wasi(run_python):
    run(
        run_python,
        """
        c = Component(engine, '''(component
          (import "wasi:cli/environment@0.2.0"
            (instance (export "get-arguments" (func (result (list string)))))))''')
        linker = Linker(engine)
        linker.add_wasip2()
        try:
            linker.instantiate(Store(engine), c)
        except WasmtimeError as e:
            assert "set_wasi" in str(e)
        else:
            raise AssertionError("no error")
        s = Store(engine)
        s.set_wasi(WasiConfig())
        linker.instantiate(s, c)
        print("done")
        """,
    )


def test_wasi_http_without_set_wasi_http(run_python):
    run(
        run_python,
        """
        c = Component(engine, '(component (import "wasi:http/types@0.2.0" (instance)))')
        linker = Linker(engine)
        linker.add_wasip2()
        linker.add_wasi_http()
        s = Store(engine)
        s.set_wasi(WasiConfig())
        try:
            linker.instantiate(s, c)
        except WasmtimeError as e:
            assert "set_wasi_http" in str(e)
        else:
            raise AssertionError("no error")
        s.set_wasi_http()
        linker.instantiate(s, c)
        print("done")
        """,
    )


@pytest.mark.parametrize("ty", ["(future u32)", "(stream u8)"])
def test_future_and_stream_values(run_python, ty):
    run(
        run_python,
        """
        TY = %r
        c = Component(engine, '''(component
          (type $t %%s)
          (core module $a (func (export "f") (param i32)) (func (export "g") (result i32) i32.const 0))
          (core instance $a (instantiate $a))
          (func (export "f") (param "c" $t) (canon lift (core func $a "f")))
          (func (export "g") (result $t) (canon lift (core func $a "g"))))''' %% TY)
        s = Store(engine)
        inst = Linker(engine).instantiate(s, c)
        for name, args in (("f", (1,)), ("g", ())):
            try:
                inst.get_func(s, name)(s, *args)
            except NotImplementedError:
                pass
            else:
                raise AssertionError("no error")
        # a Python host function would receive one: refused at instantiation
        ci = Component(engine, '''(component (type $t %%s)
          (import "i" (instance (export "f" (func (param "x" $t))))))''' %% TY)
        linker = Linker(engine)
        with linker.root() as r:
            with r.add_instance("i") as i:
                i.add_func("f", lambda ctx, x: None)
        try:
            linker.instantiate(s, ci)
        except NotImplementedError:
            pass
        else:
            raise AssertionError("no error")
        print("done")
        """
        % ty,
    )


def test_resource_with_wrong_store(run_python):
    run(
        run_python,
        """
        s1, s2 = Store(engine), Store(engine)
        r = ResourceHost.own(1, 2).to_any(s1)
        for call in (lambda: r.drop(s2), lambda: r.to_host(s2)):
            try:
                call()
            except WasmtimeError as e:
                assert "wrong store" in str(e)
            else:
                raise AssertionError("no error")
        assert r.to_host(s1).rep == 1
        print("done")
        """,
    )
