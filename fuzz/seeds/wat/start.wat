(module
  (global $n (mut i32) (i32.const 0))
  (func $start global.get $n i32.const 1 i32.add global.set $n)
  (start $start)
  (func (export "n") (result i32) global.get $n))
