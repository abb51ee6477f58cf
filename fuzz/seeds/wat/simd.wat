(module
  (func (export "v") (param v128) (result v128) local.get 0 local.get 0 i32x4.add)
  (func (export "splat") (param i32) (result i32)
    local.get 0 i32x4.splat i32x4.extract_lane 3))
