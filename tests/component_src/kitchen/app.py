"""The componentize-py guest of kitchen.wit (see tools/components.py).

Runs inside the component, never under the host's CPython: every `echo_*`
export passes its argument through the matching host import and returns the
host's answer.
"""

import counters
import wit_world
from componentize_py_types import Err
from wit_world.imports import host


class WitWorld(wit_world.WitWorld):
    def echo_scalars(self, v):
        return host.mirror_scalars(v)

    def echo_point(self, p):
        return host.mirror_point(p)

    def echo_shape(self, s):
        return host.mirror_shape(s)

    def echo_bytes(self, b):
        return host.mirror_bytes(b)

    def echo_words(self, w):
        return host.mirror_words(w)

    def echo_names(self, n):
        return host.mirror_names(n)

    def echo_color(self, c):
        return host.mirror_color(c)

    def echo_perms(self, p):
        return host.mirror_perms(p)

    def echo_option(self, o):
        return host.mirror_option(o)

    def echo_result(self, r):
        # An err from the host arrives as a raised Err and leaves the same way.
        return host.mirror_result(r)

    def echo_tuple(self, t):
        return host.mirror_tuple(t)

    def bytes_len(self, b):
        return len(b)

    def maybe_div(self, a, b):
        if b == 0:
            raise Err("division by zero")
        return a // b

    def greet(self, name):
        host.log("greeting " + name)
        return "hello, " + name + "!"


class Counters:
    def make_counter(self, start):
        return counters.Counter(start)

    def total(self, c):
        return c.get()

    def consume(self, c):
        return c.get() * 10
