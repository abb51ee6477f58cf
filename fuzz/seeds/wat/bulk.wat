(module
  (memory 1)
  (data $d "abcdefgh")
  (func (export "init") (param i32 i32 i32)
    local.get 0 local.get 1 local.get 2 memory.init $d)
  (func (export "drop") data.drop $d)
  (func (export "copy") (param i32 i32 i32)
    local.get 0 local.get 1 local.get 2 memory.copy))
