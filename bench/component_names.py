"""The component benchmark cases (bench/cases.py) and, for each, the key of the
same measurement printed by the C floor bench/component_floor.c.  Kept apart
so that bench/run.py can read it without importing wasmtime."""

COMPONENT_FLOOR = {
    "C1 component add(u32,u32)": "add",
    "C2 component list<u8> round trip 1 KiB": "bytes 1 KiB",
    "C2 component list<u8> round trip 64 KiB": "bytes 64 KiB",
    "C3 component string round trip 1 KiB": "string 1 KiB",
    "C3 component string round trip 64 KiB": "string 64 KiB",
    "C4 component record round trip": "record",
    "C5 component host import call": "host",
}
