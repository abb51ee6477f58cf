(module
  (func $f (export "f") (param i32) (result i32)
    local.get 0 i32.eqz if (result i32) i32.const 7 else
    local.get 0 i32.const 1 i32.sub return_call $f end))
