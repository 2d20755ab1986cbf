"""Resource limits for running one program against its tests."""

from __future__ import annotations

from dataclasses import asdict, dataclass

SAMPLE_PROGRAM_TIMEOUT = 0.25
"""``acecoder execute``'s default program budget (CPU seconds) for sampled programs: the AceCoder release gave a
sampled program 0.2 s of wall time (0.8 s to the oracle). On CodeT's 16,400 real samples, 0.25 s agrees with the
released per-test verdicts as well as 1 s does (99.6%) at twice the throughput: a looping program costs a quarter
second, not a second. Oracles (``filter-tests``, 8 s), reward functions
(``Limits()``, 1 s) and ``train-rl`` (4 s) get more."""


@dataclass(frozen=True)
class Limits:
    """Per-program and per-test limits; every field is a CLI option of ``acecoder execute``.

    Time limits count CPU time (user + system), so verdicts do not flip on a loaded machine; a wall-clock
    backstop of ``wall_factor * limit + wall_extra`` seconds (per test, and over the whole program with
    ``program_timeout``) catches programs that sleep or block.
    """

    timeout: float = 1.0
    """CPU seconds each test may use."""
    setup_timeout: float = 5.0
    """CPU seconds the program's own top-level code (imports, definitions) may use."""
    program_timeout: float | None = 1.0
    """CPU seconds for the program and all its tests together, over its whole process tree (re-runs after a
    crash or timeout included); tests not reached once it is spent fail as timeouts. None: no such budget.
    (The AceCoder release gave a whole sampled program 0.2 s of wall time; evalplus caps a sample at the sum of
    its per-input limits.) Looping programs then cost one second, not one second per test."""
    wall_factor: float = 3.0
    wall_extra: float = 1.0
    memory_mb: int = 4096
    """Address-space cap of the program's process (numpy needs well over 1 GiB of address space)."""
    output_bytes: int = 65536
    """Captured stdout + stderr per program; the rest is drained and dropped."""
    value_bytes: int = 16 * 1024 * 1024
    """Values a program's probes may return, in canonical JSON, per program (larger values fail their test)."""
    file_mb: int = 64
    """Largest file a program may write (its scratch directory is private and emptied after each program)."""
    max_processes: int = 64
    """Processes and threads the program's uid may have at once (applies when the engine runs as root)."""
    max_files: int = 256
    """Open file descriptors."""
    strict_equality: bool = True
    """In tests run inside the program's process: values whose type forges equality never equal a
    builtin-typed expected value."""
    harden_in_process: bool = True
    """With ``in_process_tests``: refuse frame introspection, trace hooks, heap walking, ctypes and new code
    objects to the program (an audit hook). Libraries that need those (matplotlib, unittest.mock, traceback
    printing) then fail; turn it off to evaluate fixed samples with such tests (BigCodeBench). Tests judged
    in the judge need no such hardening."""
    split_tests: bool = True
    """Judge every test that can be split from its probes' values (one request for all of a program's asserts);
    without it every test runs in the judge, calling into the program."""
    in_process_tests: bool = False
    """Run tests that are not split asserts inside the program's process, as the benchmark harnesses do
    (BigCodeBench's ``unittest`` classes patch the program's module with ``mock``), instead of in the judge.
    For evaluating fixed samples only: a program can forge such verdicts, so never for RL rewards."""

    def __post_init__(self) -> None:
        for name in ("timeout", "setup_timeout", "wall_factor"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.program_timeout is not None and self.program_timeout <= 0:
            raise ValueError(f"program_timeout must be positive or None, got {self.program_timeout}")
        if self.wall_extra < 0:
            raise ValueError(f"wall_extra must not be negative, got {self.wall_extra}")
        for name in ("memory_mb", "output_bytes", "value_bytes", "file_mb", "max_processes", "max_files"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    def to_wire(self) -> dict:
        return asdict(self)
