(module
  (func (export "ext") (param externref) (result externref) local.get 0)
  (func (export "fn") (param funcref) (result funcref) local.get 0)
  (func (export "is_null") (param externref) (result i32) local.get 0 ref.is_null)
  (func $self (export "self") (result funcref) ref.func $self)
  (elem declare func $self))
