"""Subinterpreters are refused cleanly (extension.c, docs/architecture.md):
importing wasmtime in one raises ImportError instead of deadlocking the first
time Wasmtime calls back into Python, and the main interpreter is unaffected.
Run in a subprocess so a hang or crash cannot take pytest down.
"""

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("_testcapi", reason="CPython's _testcapi runs subinterpreters")

SUB = textwrap.dedent("""
    try:
        import wasmtime
    except ImportError as e:
        with open(OUT, "w") as fh:
            fh.write("ImportError: %s" % e)
    else:
        with open(OUT, "w") as fh:
            fh.write("imported")
""")

MAIN = textwrap.dedent("""
    import sys, _testcapi
    out = sys.argv[1]
    import wasmtime
    rc = _testcapi.run_in_subinterp("OUT = %r\\n" % out + sys.argv[2])
    assert rc == 0, rc
    store = wasmtime.Store()
    f = wasmtime.Func(store, wasmtime.FuncType([], [wasmtime.ValType.i32()]), lambda: 7)
    assert f(store) == 7
    print("main ok")
""")


def test_a_subinterpreter_gets_importerror_and_main_keeps_working(tmp_path):
    out = tmp_path / "result.txt"
    proc = subprocess.run(
        [sys.executable, "-c", MAIN, str(out), SUB], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "main ok" in proc.stdout
    result = out.read_text()
    assert result.startswith("ImportError:"), result
    assert "subinterpreter" in result
