"""The wire protocol every acecoder process speaks: 4-byte big-endian length frames holding JSON.

Defined once and imported by both sides: the engine, the judge (:mod:`acecoder.execution.judge`), the sandbox
server and the program's child. Stdlib-only and Python >= 3.8, like the rest of the sandbox package.

A reply may carry a second, raw frame (the values of a batch of probes). File descriptors (the channel between
the judge and a program's child) travel beside a frame over a unix socket (``SCM_RIGHTS``).
"""

import array
import json
import os
import socket
import struct

HEADER = struct.Struct(">I")
MAX_FRAME = (1 << 32) - 1


class FrameTooLarge(ValueError):
    """A peer announced a frame larger than the reader accepts."""


def read_exact(fd, size):
    """``size`` bytes from ``fd`` (blocking); EOFError when the peer closed first."""
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def frame(message, blob=None):
    """The bytes of one message (and its raw blob, when it has one)."""
    data = json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    data = HEADER.pack(len(data)) + data
    if blob is not None:
        data += HEADER.pack(len(blob)) + blob
    return data


def send(fd, message, blob=None):
    write_all(fd, frame(message, blob))


def recv_bytes(fd, limit=MAX_FRAME):
    (size,) = HEADER.unpack(read_exact(fd, HEADER.size))
    if size > limit:
        raise FrameTooLarge("a frame of %d bytes (at most %d accepted)" % (size, limit))
    return read_exact(fd, size)


def recv(fd, limit=MAX_FRAME):
    """One JSON message; EOFError at end of stream, ValueError when it is not JSON."""
    return json.loads(recv_bytes(fd, limit))


def send_fd(sock, message, fd):
    """One frame with a file descriptor attached (``sock``: a connected unix socket)."""
    data = frame(message)
    fds = array.array("i", [fd])
    sent = sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds.tobytes())])
    if sent < len(data):
        write_all(sock.fileno(), data[sent:])


def recv_with_fds(sock, limit=MAX_FRAME):
    """One frame and the descriptors that came with its first bytes (possibly none)."""
    fds = array.array("i")
    data, ancillary, _flags, _addr = sock.recvmsg(HEADER.size, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    if not data:
        for fd in fds:
            os.close(fd)
        raise EOFError
    if len(data) < HEADER.size:
        data += read_exact(sock.fileno(), HEADER.size - len(data))
    (size,) = HEADER.unpack(data)
    if size > limit:
        for fd in fds:
            os.close(fd)
        raise FrameTooLarge("a frame of %d bytes (at most %d accepted)" % (size, limit))
    return json.loads(read_exact(sock.fileno(), size)), list(fds)
