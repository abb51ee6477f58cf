"""Write the seed corpora: fuzz/seeds/wat/*.wat and, through
wasmtime.wat2wasm, fuzz/seeds/module/*.wasm.  The output is committed (a few
KB); run this again after editing SEEDS.

    python fuzz/make_seeds.py
"""

import os
import shutil

import wasmtime

SEEDS = {
    "empty": "(module)",
    "add": """
(module
  (func (export "add") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add))""",
    "numbers": """
(module
  (func (export "i64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.mul)
  (func (export "f32") (param f32) (result f32) local.get 0 f32.sqrt)
  (func (export "f64") (param f64 f64) (result f64) local.get 0 local.get 1 f64.div)
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "trunc") (param f64) (result i32) local.get 0 i32.trunc_f64_s)
  (func (export "multi") (param i32 i64) (result i64 i32) local.get 1 local.get 0))""",
    "memory": """
(module
  (memory (export "memory") 1 2)
  (data (i32.const 8) "hello")
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "oob") (result i32) i32.const 70000 i32.load)
  (func (export "fill") (param i32 i32 i32)
    local.get 0 local.get 1 local.get 2 memory.fill))""",
    "globals": """
(module
  (global (export "gi32") (mut i32) (i32.const 1))
  (global (export "gi64") (mut i64) (i64.const -1))
  (global (export "gf32") (mut f32) (f32.const 1.5))
  (global (export "gf64") f64 (f64.const nan))
  (global (export "gext") (mut externref) (ref.null extern))
  (global (export "gfn") (mut funcref) (ref.func $f))
  (func $f (export "f") (result i32) global.get 0))""",
    "tables": """
(module
  (type $t (func (param i32) (result i32)))
  (table $fns (export "fns") 3 10 funcref)
  (table (export "refs") 2 externref)
  (elem (table $fns) (i32.const 0) func $inc $dec)
  (func $inc (param i32) (result i32) local.get 0 i32.const 1 i32.add)
  (func $dec (param i32) (result i32) local.get 0 i32.const 1 i32.sub)
  (func (export "call") (param i32 i32) (result i32)
    local.get 1 local.get 0 call_indirect $fns (type $t))
  (func (export "grow") (param externref i32) (result i32)
    local.get 0 local.get 1 table.grow 1))""",
    "imports": """
(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (import "env" "g" (global $g i32))
  (import "env" "m" (memory 1))
  (import "env" "t" (table 1 funcref))
  (func (export "call_import") (param i32) (result i32) local.get 0 call $f)
  (func (export "read_global") (result i32) global.get $g))""",
    "start": """
(module
  (global $n (mut i32) (i32.const 0))
  (func $start global.get $n i32.const 1 i32.add global.set $n)
  (start $start)
  (func (export "n") (result i32) global.get $n))""",
    "loop": """
(module
  (func (export "spin") (loop br 0))
  (func (export "count") (param i32) (result i32)
    (loop local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0)
    local.get 0))""",
    "recursion": """
(module
  (func $r (export "r") (param i32) (result i32)
    local.get 0 i32.const 1 i32.add call $r))""",
    "traps": """
(module
  (func (export "unreachable") unreachable)
  (func (export "null_call") (param i32) i32.const 0 call_indirect (param i32))
  (table 1 funcref))""",
    "refs": """
(module
  (func (export "ext") (param externref) (result externref) local.get 0)
  (func (export "fn") (param funcref) (result funcref) local.get 0)
  (func (export "is_null") (param externref) (result i32) local.get 0 ref.is_null)
  (func $self (export "self") (result funcref) ref.func $self)
  (elem declare func $self))""",
    "simd": """
(module
  (func (export "v") (param v128) (result v128) local.get 0 local.get 0 i32x4.add)
  (func (export "splat") (param i32) (result i32)
    local.get 0 i32x4.splat i32x4.extract_lane 3))""",
    "bulk": """
(module
  (memory 1)
  (data $d "abcdefgh")
  (func (export "init") (param i32 i32 i32)
    local.get 0 local.get 1 local.get 2 memory.init $d)
  (func (export "drop") data.drop $d)
  (func (export "copy") (param i32 i32 i32)
    local.get 0 local.get 1 local.get 2 memory.copy))""",
    "tags": """
(module
  (tag $e (export "e") (param i32))
  (func (export "throw") (param i32) local.get 0 throw $e)
  (func (export "catch") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) local.get 0 throw $e)
      i32.const -1)))""",
    "gc": """
(module
  (type $pt (struct (field (mut i32)) (field i64)))
  (type $arr (array (mut i8)))
  (func (export "mk") (param i32) (result (ref null $pt))
    local.get 0 i64.const 2 struct.new $pt)
  (func (export "arr") (param i32) (result i32)
    local.get 0 i32.const 1 array.new $arr array.len)
  (func (export "anyref") (param anyref) (result i32) local.get 0 ref.is_null)
  (global (export "g") (mut anyref) (ref.null any)))""",
    "memory64": """
(module
  (memory (export "m64") i64 1)
  (func (export "load") (param i64) (result i32) local.get 0 i32.load))""",
    "shared": """
(module
  (memory (export "shm") 1 2 shared)
  (func (export "notify") (param i32) (result i32)
    local.get 0 i32.const 1 memory.atomic.notify))""",
    "multimem": """
(module
  (memory (export "a") 1)
  (memory (export "b") 0 1)
  (func (export "copy") (param i32) i32.const 0 i32.const 0 local.get 0 memory.copy 1 0))""",
    "tailcall": """
(module
  (func $f (export "f") (param i32) (result i32)
    local.get 0 i32.eqz if (result i32) i32.const 7 else
    local.get 0 i32.const 1 i32.sub return_call $f end))""",
    "many_exports": "(module (func $f)"
    + "".join(' (export "e%d" (func $f))' % i for i in range(40))
    + ")",
    "names": """
(module $named
  (func $a (export "a") call $b)
  (func $b unreachable))""",
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for kind in ("wat", "module"):
        d = os.path.join(here, "seeds", kind)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    for name, text in SEEDS.items():
        with open(os.path.join(here, "seeds", "wat", name + ".wat"), "w") as f:
            f.write(text.strip() + "\n")
        with open(os.path.join(here, "seeds", "module", name + ".wasm"), "wb") as f:
            f.write(bytes(wasmtime.wat2wasm(text)))
    print("wrote %d seeds" % len(SEEDS))


if __name__ == "__main__":
    main()
