(module
  (func (export "unreachable") unreachable)
  (func (export "null_call") (param i32) i32.const 0 call_indirect (param i32))
  (table 1 funcref))
