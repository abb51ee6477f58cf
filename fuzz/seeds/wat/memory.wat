(module
  (memory (export "memory") 1 2)
  (data (i32.const 8) "hello")
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "oob") (result i32) i32.const 70000 i32.load)
  (func (export "fill") (param i32 i32 i32)
    local.get 0 local.get 1 local.get 2 memory.fill))
