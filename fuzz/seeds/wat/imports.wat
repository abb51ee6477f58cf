(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (import "env" "g" (global $g i32))
  (import "env" "m" (memory 1))
  (import "env" "t" (table 1 funcref))
  (func (export "call_import") (param i32) (result i32) local.get 0 call $f)
  (func (export "read_global") (result i32) global.get $g))
