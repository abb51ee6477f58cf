(module
  (func (export "spin") (loop br 0))
  (func (export "count") (param i32) (result i32)
    (loop local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0)
    local.get 0))
