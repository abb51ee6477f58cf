(module $named
  (func $a (export "a") call $b)
  (func $b unreachable))
