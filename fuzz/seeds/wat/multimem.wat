(module
  (memory (export "a") 1)
  (memory (export "b") 0 1)
  (func (export "copy") (param i32) i32.const 0 i32.const 0 local.get 0 memory.copy 1 0))
