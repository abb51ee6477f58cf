"""The componentize-py guest of zoo.wit (see tools/components.py): every
export drives the host-implemented `blob` resource."""

import wit_world
from componentize_py_types import Err, Ok
from wit_world.imports import blobs


class WitWorld(wit_world.WitWorld):
    def roundtrip(self, data, more):
        with blobs.Blob(data) as b:
            b.write(more)
            return b.read()

    def blob_entry(self, data):
        b = blobs.make_blob(data)
        entry = blobs.describe(b)
        return (entry, blobs.consume_blob(b))

    def merged(self, a, b):
        with blobs.Blob(a) as x:
            with blobs.Blob.merge(x, b) as z:
                return z.read()

    def nested(self, o):
        return o

    def host_nested(self, data):
        b = blobs.make_blob(data)
        h = blobs.wrap(blobs.Holder("w", b))
        (b2,) = blobs.swap_all([h.b])
        b3 = blobs.maybe(b2)
        none = blobs.maybe(None)
        b4 = blobs.try_blob(Ok(b3))
        try:
            blobs.try_blob(Err("no"))
            err = b"?"
        except Err as e:
            err = e.value.encode()
        n = blobs.peek_size(blobs.Peek(b4, 7))
        out = b4.read() + h.name.encode() + err + bytes([n, none is None])
        b4.__exit__(None, None, None)
        return out

    def keep(self, h):
        h.b.write(b"!")
        return blobs.Holder(h.name + "+", h.b)

    def keep_list(self, bs):
        return list(reversed(bs))

    def keep_maybe(self, o):
        return o

    def keep_result(self, r):
        if isinstance(r, Err):
            raise Err(r.value + "!")
        return r.value

    def peek_len(self, p):
        return len(p.b.read()) + p.n

    def keep_slot(self, s):
        return s

    def swap_pair(self, p):
        return (p[1], p[0])
