"""Resource limits for running one program against its tests."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Limits:
    """Per-program and per-test limits; every field is a CLI option of ``acecoder execute``.

    Time limits count CPU time (user + system), so verdicts do not flip on a loaded machine; a wall-clock
    backstop of ``wall_factor * limit + wall_extra`` seconds catches programs that sleep or block.
    """

    timeout: float = 1.0
    """CPU seconds each test may use."""
    setup_timeout: float = 5.0
    """CPU seconds the program's own top-level code (imports, definitions) may use."""
    wall_factor: float = 3.0
    wall_extra: float = 1.0
    memory_mb: int = 4096
    """Address-space cap of the program's process (numpy needs well over 1 GiB of address space)."""
    output_bytes: int = 65536
    """Captured stdout + stderr per program; the rest is drained and dropped."""
    file_mb: int = 64
    """Largest file a program may write (its scratch directory is private and emptied after each program)."""
    max_processes: int = 64
    """Processes and threads the program's uid may have at once (applies when the engine runs as root)."""
    max_files: int = 256
    """Open file descriptors."""
    strict_equality: bool = True
    """Values whose type forges equality never equal a builtin-typed expected value in tests."""

    def __post_init__(self) -> None:
        for name in ("timeout", "setup_timeout", "wall_factor"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("memory_mb", "output_bytes", "file_mb", "max_processes", "max_files"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    def to_wire(self) -> dict:
        return asdict(self)
