"""Removing a directory tree a program left, however deep, long-named or locked down it made it.

Used for a program's scratch space without namespaces (with them, it is a tmpfs that is simply unmounted), and
for the judge's working directory for tests between jobs.
Works on directory descriptors, so neither path length (PATH_MAX) nor nesting depth (no recursion) limits it,
never follows symbolic links, and makes read-only directories writable before emptying them.
"""

import os
import stat


def _open_dir(name, dir_fd):
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)


def empty_directory(path):
    """Delete everything inside ``path`` (not ``path`` itself). Raises OSError when something survives."""
    top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    stack = [top]  # open descriptors from the top down to the directory being emptied
    try:
        while stack:
            fd = stack[-1]
            if fd != top:  # a directory the program may have locked (the top keeps its own mode)
                try:
                    os.fchmod(fd, 0o700)
                except OSError:
                    pass
            descended = False
            with os.scandir(fd) as entries:
                for entry in entries:
                    if not entry.is_dir(follow_symlinks=False):
                        os.unlink(entry.name, dir_fd=fd)
                        continue
                    try:
                        os.rmdir(entry.name, dir_fd=fd)
                    except OSError:
                        stack.append(_open_dir(entry.name, fd))
                        descended = True
                        break
            if descended:
                continue
            stack.pop()
            if stack:  # the emptied directory is removed from its parent on the next pass over the parent
                os.close(fd)
    finally:
        for fd in stack:
            os.close(fd)
        if top not in stack:
            try:
                os.close(top)
            except OSError:
                pass


def is_plain_directory(path):
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
