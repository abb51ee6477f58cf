"""Shared pieces of the atheris fuzz targets in this folder.

Every target is a plain script: ``python fuzz/fuzz_X.py [libFuzzer flags]
[CORPUS_DIR ...]`` fuzzes (``-max_total_time=N`` bounds it), and
``python fuzz/fuzz_X.py FILE`` replays one input.  ``FUZZ_TRACE=1`` makes a
target print, on stderr, the Python it runs for an input, which is how a
crashing input becomes a standalone reproducer.

What counts as a finding:
  * any signal or sanitizer report (libFuzzer saves the input as crash-*);
  * ``SystemError`` (C code that returned NULL without an exception, or a
    value with one set), wherever it shows up, also as an "unraisable";
  * a ``Finding``: a target's own check that a result is wrong;
  * an exception type that a target does not list as expected.
A target may never create an Engine before libFuzzer has started: Wasmtime
installs its signal handlers on the first Engine and chains to whatever was
installed before, so libFuzzer's handlers must come first for a crash outside
wasm to be caught and its input saved.
"""

import gc
import math
import os
import re
import struct
import sys
import types
import zlib

import atheris

import wasmtime

TRACING = os.environ.get("FUZZ_TRACE", "") not in ("", "0")
# Known, still-unfixed findings the targets steer around (KNOWN below):
# FUZZ_ALLOW_KNOWN=1 stops steering around all of them, FUZZ_ALLOW_KNOWN=a,b
# around the named ones only (which replays an input saved while the others
# were steered around).
_allow = os.environ.get("FUZZ_ALLOW_KNOWN", "")
ALLOW_KNOWN = {"all"} if _allow in ("1", "all") else set(filter(None, _allow.split(",")))

# Call sites whose crash is a reported, unfixed finding (docs/reliability.md,
# "Fuzzing").  While a site is listed, the targets steer around it: evil
# objects passed there do not close owners, and so on.  Remove an entry once
# its fix has landed: the targets then check the fix.
# F1-F9 (docs/reliability.md) are fixed on main: nothing to steer around.
# A finding reported later and not yet fixed goes here, with its number.
KNOWN = set()
# Other names of the same sites (fuzz_api's generic operation names a site
# "Class.member").
ALIASES = {
    "Memory.read": "Memory.offset",
    "Linker.get_default": "Linker.get",
    "Linker.alias": "Linker.get",
    "Linker.alias_module": "Linker.get",
    "Linker.name": "Linker.get",
}


def known(site):
    site = ALIASES.get(site, site)
    return site in KNOWN and site not in ALLOW_KNOWN and "all" not in ALLOW_KNOWN


class Finding(AssertionError):
    """A wrong result: the targets raise it, and libFuzzer reports it."""


class EvilError(Exception):
    """Raised on purpose by the evil objects' dunders."""


def check(cond, what):
    if not cond:
        raise Finding(what)


_quiet = [False]


def trace(fmt, args=()):
    """Print `fmt % args` when FUZZ_TRACE is set.  Formatting runs with the
    evil objects quiet, so tracing never changes what an input does."""
    if not TRACING:
        return
    _quiet[0] = True
    try:
        sys.stderr.write((fmt % args) + "\n")
    finally:
        _quiet[0] = False


class _Call:
    """Formats a call for a trace, lazily (only when the trace prints)."""

    def __init__(self, label, args, kw):
        self.label, self.args, self.kw = label, args, kw

    def __str__(self):
        return "%s(%s)" % (
            self.label,
            ", ".join(
                [show(a) for a in self.args] + ["%s=%s" % (k, show(v)) for k, v in self.kw.items()]
            ),
        )


# Targets may set this to name the objects they track (store3, module5...).
names = {}


def show(x):
    if id(x) in names:
        return names[id(x)]
    if isinstance(x, list) and not isinstance(x, EvilList):
        return "[%s]" % ", ".join(show(i) for i in x)
    if isinstance(x, (bytes, bytearray)) and len(x) > 48:
        return "%s(%r...%d bytes)" % (type(x).__name__, bytes(x[:16]), len(x))
    return repr(x)


def trace_call(label, args=(), kw=None):
    if TRACING:
        trace("  %s", _Call(label, args, kw or {}))


class Act:
    """An evil object's action, with a name for traces."""

    def __init__(self, name, fn):
        self.name = name
        self.fn = fn

    def __call__(self):
        if not _quiet[0]:
            trace("    [evil: %s]", self.name)
            self.fn()

    def __repr__(self):
        return self.name


# -- exception policy ------------------------------------------------------

BENIGN = (
    wasmtime.WasmtimeError,
    wasmtime.Trap,
    TypeError,
    ValueError,
    OverflowError,
    IndexError,
    KeyError,
    RuntimeError,
    BufferError,
    AttributeError,
    EvilError,
    MemoryError,
    OSError,
    LookupError,
    ArithmeticError,
    RecursionError,
)


def judge(exc, expected=BENIGN):
    """Re-raise `exc` if it is a finding, swallow it otherwise."""
    if isinstance(exc, (SystemError, Finding)):
        raise exc
    if not isinstance(exc, expected):
        raise Finding("unexpected %s: %s" % (type(exc).__name__, exc)) from exc
    feature(*shape(exc))
    trace("    -> %s: %s", (type(exc).__name__, str(exc).splitlines()[0] if str(exc) else ""))


_unraisable = []


def _hook(arg):
    # Exceptions raised where nobody can catch them (finalizers, callbacks).
    _unraisable.append(arg.exc_value)


def check_unraisable():
    errs = list(_unraisable)
    _unraisable.clear()
    for e in errs:
        if isinstance(e, SystemError):
            raise Finding("unraisable SystemError: %s" % e) from e


# -- semantic coverage -----------------------------------------------------
#
# atheris sees only the coverage of Python code, and the package is C (and
# Wasmtime is Rust).  So the targets also report what happened, e.g. which
# validation error or trap a module reached, as a coverage feature: a
# counter chosen by a hash of the outcome.  An input that reaches a new
# outcome is kept in the corpus, which leads the fuzzer deeper into the
# validator and the runtime than branch coverage of the harness alone.

_FEATURES = [atheris._reserve_counter() for _ in range(8192)]


def feature(*key):
    h = zlib.crc32(repr(key).encode("utf-8", "backslashreplace"))
    atheris._trace_branch(_FEATURES[h % len(_FEATURES)])


_NUMBERS = re.compile(r"0x[0-9a-fA-F]+|\d+")


def shape(exc):
    """An exception as a feature key: its type and first message line with
    numbers removed (offsets and indices would make every input new)."""
    if isinstance(exc, wasmtime.Trap):
        try:
            return "Trap", str(exc.trap_code)
        except Exception:  # noqa: BLE001 - the code of an unknown trap
            return "Trap", "?"
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return type(exc).__name__, _NUMBERS.sub("#", first)[:120]


# -- running ---------------------------------------------------------------


def instrument_module(mod):
    """Give atheris coverage of the harness's own Python (the package itself is
    C, which atheris cannot see without a clang sancov build)."""
    for obj in list(vars(mod).values()):
        if isinstance(obj, types.FunctionType) and obj.__module__ == mod.__name__:
            atheris.instrument_func(obj)
        elif isinstance(obj, type) and obj.__module__ == mod.__name__:
            for attr in list(vars(obj).values()):
                if isinstance(attr, (staticmethod, classmethod)):
                    attr = attr.__func__
                if isinstance(attr, types.FunctionType):
                    atheris.instrument_func(attr)


def main(test_one_input, *, max_len=4096, extra=()):
    """Run a target under libFuzzer with this project's default flags (each
    can be overridden on the command line)."""
    argv = list(sys.argv)
    given = {a.split("=", 1)[0] for a in argv[1:] if a.startswith("-")}
    defaults = [
        "-max_len=%d" % max_len,
        "-rss_limit_mb=3072",
        "-timeout=60",
        "-print_final_stats=1",
    ] + list(extra)
    for flag in defaults:
        if flag.split("=", 1)[0] not in given:
            argv.insert(1, flag)
    sys.unraisablehook = _hook
    # The collector runs at the end of every input (and where an evil object
    # asks for it), never on its own: an automatic collection depends on
    # what earlier inputs allocated, which would make a crash in a finalizer
    # depend on history instead of on the input.
    gc.disable()
    instrument_module(sys.modules[__name__])
    instrument_module(sys.modules["__main__"])

    def one(data):
        try:
            test_one_input(data)
        finally:
            # Collect now, so a crash in a finalizer belongs to this input.
            gc.collect()
        check_unraisable()

    atheris.Setup(argv, one)
    atheris.Fuzz()


# -- plain random values ---------------------------------------------------

EDGE_INTS = [
    0,
    1,
    -1,
    2,
    7,
    255,
    256,
    65535,
    65536,
    65537,
    2**31 - 1,
    2**31,
    -(2**31),
    -(2**31) - 1,
    2**32 - 1,
    2**32,
    2**53 + 1,
    2**63 - 1,
    2**63,
    -(2**63),
    -(2**63) - 1,
    2**64 - 1,
    2**64,
    -(2**64),
    2**127,
    2**128,
    -(2**200),
    10**400,
]

EDGE_FLOATS = [
    0.0,
    -0.0,
    1.5,
    -1.0,
    math.nan,
    -math.nan,
    math.inf,
    -math.inf,
    5e-324,
    1.1754943508222875e-38,
    1.401298464324817e-45,
    3.4028234663852886e38,
    3.5e38,
    1.7976931348623157e308,
    2.0**63,
    2.0**64,
    -(2.0**63),
    4294967296.0,
    0.1,
]


def rand_int(fdp):
    k = fdp.ConsumeIntInRange(0, 4)
    if k == 0:
        return fdp.PickValueInList(EDGE_INTS)
    if k == 1:
        return fdp.ConsumeIntInRange(-300, 300)
    if k == 2:
        return fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 48))
    if k == 3:
        return fdp.PickValueInList(EDGE_INTS) + fdp.ConsumeIntInRange(-3, 3)
    return fdp.ConsumeIntInRange(0, 70000)


def small_int(fdp, hi=16):
    return fdp.ConsumeIntInRange(0, hi)


def rand_float(fdp):
    k = fdp.ConsumeIntInRange(0, 2)
    if k == 0:
        return fdp.PickValueInList(EDGE_FLOATS)
    if k == 1:
        return fdp.ConsumeFloat()
    # A NaN with a payload, or any other bit pattern.
    return struct.unpack("<d", struct.pack("<Q", fdp.ConsumeIntInRange(0, 2**64 - 1)))[0]


NAMES = [
    "",
    "a",
    "f",
    "memory",
    "m",
    "host",
    "env",
    "wasi_snapshot_preview1",
    "_start",
    "g",
    "t",
    "x" * 300,
    "\u00e9",
    "\U0001f600",
    "a\x00b",
    "\ud800",
]


def rand_name(fdp):
    """A str: usually a name the modules use, sometimes anything (lone
    surrogates and NULs included)."""
    k = fdp.ConsumeIntInRange(0, 3)
    if k <= 1:
        return fdp.PickValueInList(NAMES)
    if k == 2:
        return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 12))
    return fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 12))


def rand_bytes(fdp, hi=64):
    return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, hi))


def f32_round(x):
    """The float a wasm f32 holds for Python float x (C's float cast)."""
    if math.isnan(x) or math.isinf(x):
        return x
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        # struct refuses; C's cast rounds to infinity only past the last
        # float plus half an ulp.
        if abs(x) >= 3.4028235677973366e38:
            return math.copysign(math.inf, x)
        return math.copysign(3.4028234663852886e38, x)


def wrap(x, bits):
    x &= (1 << bits) - 1
    return x - (1 << bits) if x >> (bits - 1) else x


def same_float(a, b):
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return True
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return False


# -- evil objects ----------------------------------------------------------


class Evil:
    """An object every conversion of which runs `action` first, then answers
    with `value`: as an int (__index__/__int__), float, bool, path, str,
    iterable, length, mapping key (__hash__/__eq__) or callable."""

    def __init__(self, action, value, once=False):
        self._action = action
        self._value = value
        self._once = once

    def _fire(self):
        act = self._action
        if act is not None and not _quiet[0]:
            if self._once:
                self._action = None
            act()
        return self._value

    def __index__(self):
        v = self._fire()
        return v if isinstance(v, int) else 0

    __int__ = __index__

    def __float__(self):
        v = self._fire()
        return float(v) if isinstance(v, (int, float)) else 0.0

    def __bool__(self):
        return bool(self._fire())

    def __fspath__(self):
        v = self._fire()
        return v if isinstance(v, (str, bytes)) else "/nonexistent"

    def __len__(self):
        self._fire()
        return 1

    def __iter__(self):
        v = self._fire()
        return iter(v if isinstance(v, (list, tuple)) else [v])

    def __getitem__(self, i):
        v = self._fire()
        if isinstance(v, (list, tuple)):
            return v[i]
        raise IndexError(i)

    def __eq__(self, other):
        self._fire()
        return False

    def __hash__(self):
        self._fire()
        return 7

    def __repr__(self):
        if _quiet[0]:
            return "Evil(%r, %r)" % (self._action, self._value)
        self._fire()
        return "Evil()"

    def __call__(self, *args):
        return self._fire()


class EvilStr(str):
    """A str whose hashing and comparisons run an action."""

    def __new__(cls, text, action):
        s = super().__new__(cls, text)
        s._action = action
        return s

    def __repr__(self):
        return "EvilStr(%s, %r)" % (str.__repr__(self), self._action)

    def __hash__(self):
        self._action()
        return str.__hash__(self)

    def __eq__(self, other):
        self._action()
        return str.__eq__(self, other)

    def __ne__(self, other):
        self._action()
        return str.__ne__(self, other)


class EvilInt(int):
    def __repr__(self):
        return "EvilInt(%d, %r)" % (int(self), self._action)

    def __new__(cls, value, action):
        i = super().__new__(cls, value)
        i._action = action
        return i

    def __index__(self):
        self._action()
        return int(self)


class EvilList(list):
    """A list whose iteration, length and indexing run an action."""

    def __init__(self, items, action):
        super().__init__(items)
        self._action = action

    def __iter__(self):
        self._action()
        return super().__iter__()

    def __repr__(self):
        return "EvilList(%s, %r)" % (list.__repr__(self), self._action)

    def __len__(self):
        self._action()
        return super().__len__()

    def __getitem__(self, i):
        self._action()
        return super().__getitem__(i)


def evil_gen(items, action, at):
    """A generator that runs `action` before yielding item number `at`."""
    for i, x in enumerate(items):
        if i == at:
            action()
        yield x
    if at >= len(items):
        action()


def _raise():
    raise EvilError("raised by an evil dunder")


raiser = Act("raise EvilError", _raise)
