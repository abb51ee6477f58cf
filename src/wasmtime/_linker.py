"""Linker.define_module for a command module that exports more than
functions, when ``Linker.allow_unknown_exports`` is set.

Wasmtime's C API refuses such a module and has no switch for it, so the
Linker defines the command's functions itself, through its ordinary registry
(``define_func``), with the semantics Wasmtime gives a command: every call
instantiates the module afresh, in the calling Store, through this Linker,
and calls that export of the new instance.  Exports that are not functions
are ignored.
"""

from . import FuncType


def _command_export(linker, module, name):
    def call(caller, *args):
        instance = linker.instantiate(caller, module)
        return instance.exports(caller)[name](caller, *args)

    return call


def define_command(linker, name, module):
    for export in module.exports:
        ty = export.type
        if isinstance(ty, FuncType):
            call = _command_export(linker, module, export.name)
            linker.define_func(name, export.name, ty, call, access_caller=True)
