"""The componentize-py guest of zoo.wit (see tools/components.py): every
export drives the host-implemented `blob` resource."""

import wit_world
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
