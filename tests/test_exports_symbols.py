"""The extension exports exactly one dynamic symbol: its init function."""

import shutil
import subprocess

import pytest
import wasmtime._ext

NM = shutil.which("nm")

# Linker-provided section markers that some toolchains add to every shared
# object.  Nothing else may appear.
TOOLCHAIN_SYMBOLS = {"_init", "_fini"}


def defined_dynamic_symbols(path):
    out = subprocess.run(
        [NM, "-D", "--defined-only", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    symbols = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            _address, kind, name = parts
            symbols[name] = kind
    return symbols


@pytest.mark.skipif(NM is None, reason="nm (binutils) is not installed")
def test_only_pyinit_is_exported():
    symbols = defined_dynamic_symbols(wasmtime._ext.__file__)
    ours = {name: kind for name, kind in symbols.items() if name not in TOOLCHAIN_SYMBOLS}
    assert ours == {"PyInit__ext": "T"}


@pytest.mark.skipif(NM is None, reason="nm (binutils) is not installed")
def test_engine_symbols_come_from_the_shared_library():
    # The extension must call into Wasmtime, not carry a copy of it.
    out = subprocess.run(
        [NM, "-D", "--undefined-only", wasmtime._ext.__file__],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    undefined = {line.split()[-1] for line in out.splitlines() if line.strip()}
    assert "wasm_engine_new_with_config" in undefined
    assert "wasmtime_module_new" in undefined
