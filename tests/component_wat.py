"""WAT components for the tests of wasmtime.component (tests/test_component_*.py).

`echo(wit, params, result)` builds a component that imports `x: func(v: T)
-> T` and exports `x` with the same type, whose core code passes its
arguments straight to the import: a call goes Python -> guest -> Python host
function -> guest -> Python, so each value crosses both ways on both sides.
`params` is the flattened core parameter list of T; `result` is its single
core result type, or None when T flattens to more than one value (then the
value travels through a return pointer in linear memory).
"""

LIBC = """
  (core module $libc
    (memory (export "mem") 64)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (local.get $at)))
  (core instance $libc (instantiate $libc))
"""

OPTS = '(memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))'


def echo(wit, params, result):
    p = " ".join(params)
    gets = " ".join("(local.get %d)" % i for i in range(len(params)))
    if result is None:
        imp = "(func (param %s i32))" % p
        body = (
            '(func (export "x") (param %s) (result i32) %s (i32.const 16) (call $x) (i32.const 16))'
            % (
                p,
                gets,
            )
        )
    else:
        imp = "(func (param %s) (result %s))" % (p, result)
        body = '(func (export "x") (param %s) (result %s) %s (call $x))' % (p, result, gets)
    return """
(component
  (type $t' %s)
  (import "t" (type $t (eq $t')))
  (import "x" (func $x (param "v" $t) (result $t)))
  %s
  (core func $xl (canon lower (func $x) %s))
  (core module $m
    (import "" "x" %s)
    %s)
  (core instance $m (instantiate $m (with "" (instance (export "x" (func $xl))))))
  (func (export "x") (param "v" $t) (result $t) (canon lift (core func $m "x") %s))
)
""" % (wit, LIBC, OPTS, imp.replace("(func ", "(func $x ", 1), body, OPTS)


# A component exporting `f: func(c: char)`, `add: func(a: u32, b: u32) -> u32`
# and `trap: func()`, with no imports.
PLAIN = """
(component
  (core module $a
    (func (export "f") (param i32))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "trap") unreachable))
  (core instance $a (instantiate $a))
  (func (export "f") (param "c" char) (canon lift (core func $a "f")))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $a "add")))
  (func (export "trap") (canon lift (core func $a "trap")))
)
"""

# Imports `call: func()` and exports `call` that calls it.
CALLS_HOST = """
(component
  (import "call" (func $h))
  (core func $hl (canon lower (func $h)))
  (core module $m (import "" "h" (func $h)) (func (export "call") (call $h)))
  (core instance $m (instantiate $m (with "" (instance (export "h" (func $hl))))))
  (func (export "call") (canon lift (core func $m "call")))
)
"""
