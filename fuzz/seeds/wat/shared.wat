(module
  (memory (export "shm") 1 2 shared)
  (func (export "notify") (param i32) (result i32)
    local.get 0 i32.const 1 memory.atomic.notify))
