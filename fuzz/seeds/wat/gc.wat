(module
  (type $pt (struct (field (mut i32)) (field i64)))
  (type $arr (array (mut i8)))
  (func (export "mk") (param i32) (result (ref null $pt))
    local.get 0 i64.const 2 struct.new $pt)
  (func (export "arr") (param i32) (result i32)
    local.get 0 i32.const 1 array.new $arr array.len)
  (func (export "anyref") (param anyref) (result i32) local.get 0 ref.is_null)
  (global (export "g") (mut anyref) (ref.null any)))
