"""The guest resource `counter` of kitchen.wit's `counters` interface."""


class Counter:
    def __init__(self, start):
        self.value = start

    def incr(self, by):
        self.value += by
        return self.value

    def get(self):
        return self.value
