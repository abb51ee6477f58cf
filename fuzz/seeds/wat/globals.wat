(module
  (global (export "gi32") (mut i32) (i32.const 1))
  (global (export "gi64") (mut i64) (i64.const -1))
  (global (export "gf32") (mut f32) (f32.const 1.5))
  (global (export "gf64") f64 (f64.const nan))
  (global (export "gext") (mut externref) (ref.null extern))
  (global (export "gfn") (mut funcref) (ref.func $f))
  (func $f (export "f") (result i32) global.get 0))
