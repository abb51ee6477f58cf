(module
  (func (export "i64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.mul)
  (func (export "f32") (param f32) (result f32) local.get 0 f32.sqrt)
  (func (export "f64") (param f64 f64) (result f64) local.get 0 local.get 1 f64.div)
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "trunc") (param f64) (result i32) local.get 0 i32.trunc_f64_s)
  (func (export "multi") (param i32 i64) (result i64 i32) local.get 1 local.get 0))
