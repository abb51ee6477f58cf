"""wasmtime.Trap, Frame and TrapCode."""

import pytest

from wasmtime import (
    Config,
    Engine,
    Frame,
    Func,
    FuncType,
    Instance,
    Managed,
    Module,
    Store,
    Trap,
    TrapCode,
    WasmtimeError,
)

NAMED_WAT = """
(module $module
  (func $foo call $bar)
  (func $bar unreachable)
  (func (export "run") call $foo))
"""


def run_trap(store, wat, name="r", *args):
    ex = Instance(store, Module(store.engine, wat), []).exports(store)
    with pytest.raises(Trap) as info:
        ex[name](store, *args)
    return info.value


# ---- user-made traps --------------------------------------------------------------


def test_user_trap():
    t = Trap("msg")
    assert t.message == "msg"
    assert str(t) == "msg"
    assert t.trap_code is None
    assert t.frames == []
    assert t.args == ("msg",)


def test_trap_class_hierarchy():
    t = Trap("x")
    assert isinstance(t, Exception)
    assert isinstance(t, Managed)
    assert not isinstance(t, WasmtimeError)
    assert not issubclass(WasmtimeError, Trap)


def test_trap_is_raisable_and_context_manager():
    with pytest.raises(Trap, match="boom"):
        raise Trap("boom")
    with Trap("cm") as t:
        assert t.message == "cm"
    t.close()
    t.close()


def test_trap_constructor_errors():
    with pytest.raises(TypeError):
        Trap(1)
    with pytest.raises(TypeError):
        Trap()
    with pytest.raises(TypeError):
        Trap(b"bytes")


def test_trap_unicode_message():
    assert Trap("héllo ✓").message == "héllo ✓"
    assert Trap("").message == ""


# ---- traps from wasm -----------------------------------------------------------------


def test_real_trap_message_and_code(store):
    trap = run_trap(store, NAMED_WAT, "run")
    assert trap.trap_code == TrapCode.UNREACHABLE
    msg = trap.message
    assert str(trap) == msg
    assert msg.startswith("error while executing at wasm backtrace:")
    assert "wasm trap: wasm `unreachable` instruction executed" in msg
    assert "module!bar" in msg
    assert "module!foo" in msg
    assert "\0" not in msg


def test_real_trap_frames(store):
    trap = run_trap(store, NAMED_WAT, "run")
    frames = trap.frames
    assert len(frames) == 3
    assert all(isinstance(f, Frame) for f in frames)
    assert [f.func_index for f in frames] == [1, 0, 2]
    assert [f.func_name for f in frames] == ["bar", "foo", None]
    assert [f.module_name for f in frames] == ["module"] * 3
    for f in frames:
        assert isinstance(f.func_offset, int) and f.func_offset >= 0
        assert isinstance(f.module_offset, int) and f.module_offset > f.func_offset
        # the message's backtrace lists the same module offsets
        assert hex(f.module_offset) in trap.message
    # innermost first: each frame is a different function at its own place
    assert len({f.module_offset for f in frames}) == 3


def test_frame_offsets_point_at_the_instruction(store):
    wat = """
    (module
      (func (export "a") unreachable)
      (func (export "b") nop nop nop unreachable))
    """
    a = run_trap(store, wat, "a").frames[0]
    b = run_trap(store, wat, "b").frames[0]
    assert b.func_offset == a.func_offset + 3  # three one-byte nops before
    assert a.func_index == 0 and b.func_index == 1


def test_frames_without_names(store):
    trap = run_trap(store, '(module (func (export "r") unreachable))')
    assert len(trap.frames) == 1
    assert trap.frames[0].module_name is None
    assert trap.frames[0].func_name is None
    assert trap.frames[0].func_index == 0


def test_frame_is_not_constructible():
    with pytest.raises(TypeError):
        Frame()


def test_frames_across_host_calls(store):
    """A trap in wasm called from a host called from wasm: frames of both."""

    def host(caller):
        caller["inner"](caller)

    wat = """
    (module $m
      (import "" "h" (func $h))
      (func $inner (export "inner") unreachable)
      (func $outer (export "outer") call $h))
    """
    f = Func(store, FuncType([], []), host, access_caller=True)
    ex = Instance(store, Module(store.engine, wat), [f]).exports(store)
    with pytest.raises(Trap) as info:
        ex["outer"](store)
    assert info.value.frames[0].func_name == "inner"


TRAP_CASES = [
    ("unreachable", '(func (export "r") unreachable)', TrapCode.UNREACHABLE),
    (
        "memory",
        '(memory 1) (func (export "r") i32.const 70000 i32.load drop)',
        TrapCode.MEMORY_OUT_OF_BOUNDS,
    ),
    (
        "divide",
        '(func (export "r") i32.const 1 i32.const 0 i32.div_s drop)',
        TrapCode.INTEGER_DIVISION_BY_ZERO,
    ),
    (
        "overflow",
        '(func (export "r") i32.const 0x80000000 i32.const -1 i32.div_s drop)',
        TrapCode.INTEGER_OVERFLOW,
    ),
    (
        "conversion",
        '(func (export "r") f32.const nan i32.trunc_f32_s drop)',
        TrapCode.BAD_CONVERSION_TO_INTEGER,
    ),
    (
        "null_call",
        '(type $t (func)) (table 1 funcref) (func (export "r") i32.const 0 call_indirect (type $t))',
        TrapCode.INDIRECT_CALL_TO_NULL,
    ),
    (
        "table_oob",
        '(type $t (func)) (table 1 funcref) (func (export "r") i32.const 5 call_indirect (type $t))',
        TrapCode.TABLE_OUT_OF_BOUNDS,
    ),
    (
        "signature",
        "(type $t (func)) (table 1 funcref) (elem (i32.const 0) $x) "
        '(func $x (param i32)) (func (export "r") i32.const 0 call_indirect (type $t))',
        TrapCode.BAD_SIGNATURE,
    ),
    (
        "null_ref",
        '(type $t (func)) (func (export "r") ref.null $t call_ref $t)',
        TrapCode.NULL_REFERENCE,
    ),
    (
        "atomic_wait",
        '(memory 1) (func (export "r") i32.const 0 i32.const 0 i64.const 0 '
        "memory.atomic.wait32 drop)",
        TrapCode.ATOMIC_WAIT_NON_SHARED_MEMORY,
    ),
]


@pytest.mark.parametrize("body,code", [c[1:] for c in TRAP_CASES], ids=[c[0] for c in TRAP_CASES])
def test_trap_codes(store, body, code):
    trap = run_trap(store, f"(module {body})")
    assert trap.trap_code is code
    assert isinstance(trap.trap_code, TrapCode)
    assert len(trap.frames) >= 1


def test_misaligned_atomic():
    config = Config()
    config.shared_memory = True
    config.wasm_threads = True
    store = Store(Engine(config))
    wat = '(module (memory 1 1 shared) (func (export "r") i32.const 1 i32.atomic.load drop))'
    assert run_trap(store, wat).trap_code is TrapCode.HEAP_MISALIGNED


def test_store_usable_after_trap(store):
    wat = '(module (func (export "r") unreachable) (func (export "ok") (result i32) i32.const 1))'
    ex = Instance(store, Module(store.engine, wat), []).exports(store)
    for _ in range(3):
        with pytest.raises(Trap):
            ex["r"](store)
        assert ex["ok"](store) == 1


def test_host_raised_trap_object_is_identical(store):
    trap = Trap("host made")

    def h():
        raise trap

    wat = '(module (import "" "h" (func $h)) (func (export "r") call $h))'
    ex = Instance(store, Module(store.engine, wat), [Func(store, FuncType([], []), h)]).exports(
        store
    )
    with pytest.raises(Trap) as info:
        ex["r"](store)
    assert info.value is trap
    assert info.value.message == "host made"
    assert info.value.trap_code is None


def test_trap_subclass_from_host(store):
    class MyTrap(Trap):
        pass

    t = MyTrap("sub")
    f = Func(store, FuncType([], []), lambda: (_ for _ in ()).throw(t))
    with pytest.raises(MyTrap) as info:
        f(store)
    assert info.value is t
    assert t.message == "sub"


# ---- TrapCode ---------------------------------------------------------------------


EXPECTED_ORDER = [
    "STACK_OVERFLOW",
    "MEMORY_OUT_OF_BOUNDS",
    "HEAP_MISALIGNED",
    "TABLE_OUT_OF_BOUNDS",
    "INDIRECT_CALL_TO_NULL",
    "BAD_SIGNATURE",
    "INTEGER_OVERFLOW",
    "INTEGER_DIVISION_BY_ZERO",
    "BAD_CONVERSION_TO_INTEGER",
    "UNREACHABLE",
    "INTERRUPT",
    "OUT_OF_FUEL",
    "ATOMIC_WAIT_NON_SHARED_MEMORY",
    "NULL_REFERENCE",
    "ARRAY_OUT_OF_BOUNDS",
    "ALLOCATION_TOO_LARGE",
    "CAST_FAILURE",
    "CANNOT_ENTER_COMPONENT",
    "NO_ASYNC_RESULT",
    "UNHANDLED_TAG",
    "CONTINUATION_ALREADY_CONSUMED",
    "DISABLED_OPCODE",
    "ASYNC_DEADLOCK",
    "CANNOT_LEAVE_COMPONENT",
    "CANNOT_BLOCK_SYNC_TASK",
    "INVALID_CHAR",
    "DEBUG_ASSERT_STRING_ENCODING_FINISHED",
    "DEBUG_ASSERT_EQUAL_CODE_UNITS",
    "DEBUG_ASSERT_POINTER_ALIGNED",
    "DEBUG_ASSERT_UPPER_BITS_UNSET",
    "STRING_OUT_OF_BOUNDS",
    "LIST_OUT_OF_BOUNDS",
    "INVALID_DISCRIMINANT",
    "UNALIGNED_POINTER",
    "TASK_CANCEL_NOT_CANCELLED",
    "TASK_CANCEL_OR_RETURN_TWICE",
    "SUBTASK_CANCEL_AFTER_TERMINAL",
    "TASK_RETURN_INVALID",
    "WAITABLE_SET_DROP_HAS_WAITERS",
    "SUBTASK_DROP_NOT_RESOLVED",
    "THREAD_NEW_INDIRECT_INVALID_TYPE",
    "THREAD_NEW_INDIRECT_UNINITIALIZED",
    "BACKPRESSURE_OVERFLOW",
    "UNSUPPORTED_CALLBACK_CODE",
    "CANNOT_RESUME_THREAD",
    "CONCURRENT_FUTURE_STREAM_OP",
]


def test_trapcode_values_follow_declaration_order():
    members = list(TrapCode)
    assert [m.value for m in members] == list(range(len(members)))


@pytest.mark.parametrize("index,name", list(enumerate(EXPECTED_ORDER)))
def test_trapcode_member_values(index, name):
    assert TrapCode[name].value == index
    assert TrapCode(index).name == name


def test_trapcode_unknown_value():
    with pytest.raises(ValueError):
        TrapCode(1000)
    with pytest.raises(ValueError):
        TrapCode(-1)
