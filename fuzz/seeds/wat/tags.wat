(module
  (tag $e (export "e") (param i32))
  (func (export "throw") (param i32) local.get 0 throw $e)
  (func (export "catch") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) local.get 0 throw $e)
      i32.const -1)))
