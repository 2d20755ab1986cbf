"""Shared memory between the server and its child: the verdict board and the value arena, defined once.

The child writes one board slot per finished stage and appends each batched test's values to the arena; the
server reads both once the child is gone (no message, no wake-up per test). Both live in the program's reach, so
nothing read from them is trusted beyond "what the program's process wrote": a pass written on the board never
passes a test the judge decides, and a value in the arena is only ever a value the program could have returned.
"""

import mmap
import struct

ARENA_HEADER = struct.Struct("<I")  # bytes used, moved last so a record cut short by a kill is never read
ARENA_RECORD = struct.Struct("<II")  # test index, length of the JSON that follows
TOO_LARGE = b'[[{"U": "values larger than value_bytes"}], []]'


class Board:
    """Verdicts in shared memory. Header: the stage now running (-1: the program, i: test i) and the child's
    CPU seconds when it began; slot 0 is the program, slot i + 1 is test i."""

    HEADER = struct.Struct("<id")
    SLOT = 64

    def __init__(self, tests=256):
        self.mem = mmap.mmap(-1, self.HEADER.size + self.SLOT * (tests + 1))

    def reset(self, tests):
        size = self.HEADER.size + self.SLOT * (tests + 1)
        if len(self.mem) < size:
            self.mem.close()
            self.mem = mmap.mmap(-1, size)
        self.mem[:size] = bytes(size)

    def begin(self, stage, cpu):
        self.HEADER.pack_into(self.mem, 0, stage, cpu)

    def stage(self):
        return self.HEADER.unpack_from(self.mem, 0)

    def finish(self, stage, verdict):
        offset = self.HEADER.size + self.SLOT * (stage + 1)
        self.mem[offset : offset + self.SLOT] = b"\1" + verdict.encode()[: self.SLOT - 1].ljust(
            self.SLOT - 1, b"\0"
        )

    def verdict(self, stage):
        """None while the stage has not finished, else ``"pass"``, ``"values"``, ``"raised"`` or the failure."""
        offset = self.HEADER.size + self.SLOT * (stage + 1)
        if offset + self.SLOT > len(self.mem) or self.mem[offset] == 0:
            return None
        return self.mem[offset + 1 : offset + self.SLOT].rstrip(b"\0").decode("ascii", "replace")


def new_arena(size):
    arena = mmap.mmap(-1, size + ARENA_HEADER.size)
    reset_arena(arena)
    return arena


def reset_arena(arena):
    ARENA_HEADER.pack_into(arena, 0, ARENA_HEADER.size)


def put_record(arena, index, data):
    """Append one test's values; a record that does not fit is replaced by an unencodable marker."""
    used = ARENA_HEADER.unpack_from(arena, 0)[0]
    end = used + ARENA_RECORD.size + len(data)
    if end > len(arena):
        data = TOO_LARGE
        end = used + ARENA_RECORD.size + len(data)
        if end > len(arena):
            return
    ARENA_RECORD.pack_into(arena, used, index, len(data))
    arena[used + ARENA_RECORD.size : end] = data
    ARENA_HEADER.pack_into(arena, 0, end)


def records(arena, start, n):
    """(test, bytes) of every record in the arena for tests in [start, n), in order, first record winning."""
    used = min(ARENA_HEADER.unpack_from(arena, 0)[0], len(arena))
    offset, seen = ARENA_HEADER.size, set()
    while offset + ARENA_RECORD.size <= used:
        test, length = ARENA_RECORD.unpack_from(arena, offset)
        offset += ARENA_RECORD.size
        if offset + length > used:
            break
        if start <= test < n and test not in seen:
            seen.add(test)
            yield test, arena[offset : offset + length]
        offset += length
