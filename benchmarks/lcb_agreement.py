"""Agreement with LiveCodeBench's official grader, side by side, and where and why the terminal grader differs.

    python benchmarks/lcb_agreement.py --lcb-checkout /tmp/lcb [--maven /tmp/maven] [--runner engine|subprocess]

``--lcb-checkout``: a throwaway checkout of github.com/LiveCodeBench/LiveCodeBench (its ``lcb_runner`` package is
imported from there, never copied here); the official verdict of a sample is its
``compute_code_generation_metrics.check_correctness`` (a process and a Manager per sample, 6 s per test), run in
a pool of ``--workers`` processes as its ``evaluate_generations`` does.

Samples: every program of ``benchmarks/lcb_idioms.py`` (correct and wrong programs in each I/O idiom, on the
bundled problems), and with ``--maven DIR`` (a throwaway checkout of github.com/XZC888/MavenCoder) the real
programs three models wrote for the 400 problems of LiveCodeBench release v1 (``results/lcb_*.jsonl``), judged
on the public tests that checkout holds (``data/lcb.jsonl``).

Our graders run through the execution engine (``--runner engine``, once it runs stdin and functional tests), or
through plain subprocesses (``--runner subprocess``: each test a ``python -c PROGRAM`` with the test's stdin,
LiveCodeBench's comparator; a LeetCode problem's tests in one process, one ``Solution()``), which checks the
graders' programs independently of the engine. Every disagreement is printed with its explanation: a fault of
LiveCodeBench's harness the program hits (terminal passes, LiveCodeBench fails), a leniency of that harness
(its star imports, recursion limit 50,000, 50,000-digit integers: terminal fails, LiveCodeBench passes), a time
limit, or "unexplained".
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from acecoder.evaluation import lcb_programs  # noqa: E402
from acecoder.evaluation.lcb_data import LcbProblem, load_livecodebench, problem_from_row  # noqa: E402
from acecoder.execution.comparators import compare  # noqa: E402
from acecoder.execution.testkinds import CallTest, StdinTest  # noqa: E402
from lcb_idioms import PROGRAMS  # noqa: E402

FAULT_PATTERNS = {
    "stdin-iteration": r"(\bin\s+|\(\s*)sys\.stdin\s*[:\)\]]|\bin\s+stdin\s*:",
    "buffer-readline": r"stdin\.buffer\.readline",
    "readlines-trailing": r"readlines\(\)",
    "open-0": r"open\(\s*0|os\.read\(\s*0|/dev/stdin",
    "stdout-buffer": r"stdout\.buffer",
    "stdout-bound-early": r"from\s+sys\s+import[^\n]*\bstdout\b|sys\.__stdout__",
    "global-top-level": r"^\s+(global|nonlocal)\s",
    "quit": r"\bquit\(",
    "thread-output": r"threading\.Thread|\bThread\(",
}
LENIENCIES = {
    "NameError": "header-imports: LiveCodeBench's star imports (math, collections, itertools, ...) define names "
    "the program never imported",
    "RecursionError": "recursion-limit: LiveCodeBench's header raises the recursion limit to 50,000",
    "4300": "int-digits: LiveCodeBench allows 50,000-digit integers (Python's default: 4,300)",
}


# ---------------------------------------------------------------------------------------------- samples
def bundled_samples() -> list[dict]:
    problems = load_livecodebench().problems
    return [
        {"source": "idioms", "name": name, "problem": problems[qid], "code": program, "fault": fault}
        for name, qid, program, correct, fault in PROGRAMS
    ]


def maven_samples(root: Path, limit: int | None) -> list[dict]:
    problems: dict[str, LcbProblem] = {}
    for line, text in enumerate((root / "data" / "lcb.jsonl").read_text().splitlines(), 1):
        row = json.loads(text)
        row.setdefault("private_test_cases", "[]")
        problem = problem_from_row(row, path="lcb.jsonl", line=line)
        problems[problem.question_id] = problem
    out = []
    for path in sorted((root / "results").glob("lcb_*.jsonl")):
        model = path.name.split("_")[1]
        for text in path.read_text().splitlines():
            row = json.loads(text)
            problem = problems.get(str(row["task_id"]))
            if problem is not None and isinstance(row.get("solution"), str):
                out.append(
                    {
                        "source": f"maven:{model}",
                        "name": row["task_id"],
                        "problem": problem,
                        "code": row["solution"],
                    }
                )
    return out[:limit] if limit else out


# --------------------------------------------------------------------------------------- official grader
def _evaluation_sample(problem: LcbProblem) -> dict:
    inputs, outputs = [], []
    for test in problem.tests:
        if isinstance(test, StdinTest):
            inputs.append(test.stdin)
            outputs.append(test.stdout)
        else:
            inputs.append("\n".join(json.dumps(a) for a in test.args))
            outputs.append(json.dumps(test.expected))
    return {"input_output": json.dumps({"inputs": inputs, "outputs": outputs, "fn_name": problem.fn_name})}


def _official_one(args: tuple[str, dict, str]) -> tuple[bool, str]:
    checkout, sample, code = args
    if checkout not in sys.path:
        sys.path.insert(0, checkout)
    from lcb_runner.evaluation.compute_code_generation_metrics import check_correctness

    results, metadata = check_correctness(sample, code, timeout=6, debug=False)
    passed = bool(results) and all(r is True or (not isinstance(r, bool) and r > 0) for r in results)
    return passed, (metadata.get("error_message", "") if isinstance(metadata, dict) else "")


def official(samples: list[dict], checkout: Path, workers: int) -> list[tuple[bool, str]]:
    jobs = [(str(checkout), _evaluation_sample(s["problem"]), s["code"]) for s in samples]
    with concurrent.futures.ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_official_one, jobs, chunksize=4))


# ----------------------------------------------------------------------------------------- our graders
_CALL_DRIVER = """
import json as __j
__calls = __j.loads({calls!r})
__target = Solution() if "Solution" in globals() and isinstance(Solution, type) else None
__out = []
for __fn, __args in __calls:
    __r = getattr(__target, __fn)(*__args) if __target is not None else globals()[__fn](*__args)
    __out.append(list(__r) if isinstance(__r, tuple) else __r)
print("\\x00" + __j.dumps(__out))
"""


def _subprocess_verdict(problem: LcbProblem, program: str) -> tuple[bool, str]:
    tests = problem.tests
    try:
        if problem.fn_name is None:
            for index, test in enumerate(tests):
                done = subprocess.run(
                    [sys.executable, "-I", "-c", program],
                    input=test.stdin,
                    capture_output=True,
                    text=True,
                    timeout=18,
                )
                if done.returncode != 0 or not compare("livecodebench", done.stdout, test.stdout):
                    return False, f"test {index}: " + (done.stderr.strip().splitlines() or ["wrong answer"])[
                        -1
                    ]
            return True, ""
        calls = json.dumps([[t.fn_name, list(t.args)] for t in tests if isinstance(t, CallTest)])
        done = subprocess.run(
            [sys.executable, "-I", "-c", program + _CALL_DRIVER.format(calls=calls)],
            capture_output=True,
            text=True,
            timeout=18 * len(tests),
        )
        marker = done.stdout.rfind("\x00")
        if done.returncode != 0 or marker < 0:
            return False, (done.stderr.strip().splitlines() or ["no result"])[-1]
        values = json.loads(done.stdout[marker + 1 :])
        for index, (value, test) in enumerate(zip(values, tests, strict=True)):
            if value != test.expected:
                return False, f"test {index}: wrong answer"
        return True, ""
    except subprocess.TimeoutExpired:
        return False, "timeout"
    except (ValueError, TypeError) as e:
        return False, f"driver: {e}"


def ours(samples: list[dict], grader: str, runner: str, workers: int) -> list[tuple[bool | None, str]]:
    programs = [lcb_programs.program(s["problem"], s["code"], grader) for s in samples]
    if runner == "subprocess":
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            return list(pool.map(_subprocess_verdict, [s["problem"] for s in samples], programs))
    from acecoder.execution import ExecutionEngine, Job

    limits = lcb_programs.limits(None)
    with ExecutionEngine(workers=workers) as engine:
        jobs = [
            Job(p, s["problem"].tests, limits, stop_on_failure=True)
            for p, s in zip(programs, samples, strict=True)
        ]
        out = []
        for result in engine.run(jobs):
            if result.infra_error:
                out.append((None, f"engine: {result.infra_error}"))
            else:
                why = result.setup_error or next((e for e in result.errors if e and e != "skipped"), "")
                out.append((result.passed_all, why or ""))
        return out


# ---------------------------------------------------------------------------------------------- report
def explain(sample: dict, terminal_ok: bool, official_ok: bool, terminal_why: str, official_why: str) -> str:
    if "timeout" in terminal_why.lower() or "time limit" in official_why.lower():
        return "timing: a time limit on one side"
    if terminal_ok and not official_ok:
        faults = [
            f for f, pattern in FAULT_PATTERNS.items() if re.search(pattern, sample["code"], re.MULTILINE)
        ]
        if sample.get("fault"):
            faults = [sample["fault"]]
        return "fault: " + ", ".join(faults) if faults else "unexplained"
    for key, text in LENIENCIES.items():
        if key in terminal_why:
            return "leniency: " + text
    return "unexplained"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lcb-checkout", type=Path, required=True)
    parser.add_argument("--maven", type=Path, help="a checkout of XZC888/MavenCoder for real model programs")
    parser.add_argument("--limit", type=int, help="at most this many real programs")
    parser.add_argument("--runner", choices=("engine", "subprocess"), default="engine")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, help="write every verdict here (JSON)")
    args = parser.parse_args()
    if args.runner == "engine":
        import acecoder.execution

        if not getattr(acecoder.execution, "SUPPORTS_TEST_KINDS", False):
            sys.exit("the engine does not run stdin and functional tests yet; use --runner subprocess")
    samples = bundled_samples() + (maven_samples(args.maven, args.limit) if args.maven else [])
    started = time.monotonic()
    official_verdicts = official(samples, args.lcb_checkout, args.workers)
    official_time = time.monotonic() - started
    started = time.monotonic()
    compat = ours(samples, "lcb-compat", args.runner, args.workers)
    terminal = ours(samples, "terminal", args.runner, args.workers)
    ours_time = time.monotonic() - started
    rows = []
    for sample, (off, off_why), (com, com_why), (ter, ter_why) in zip(
        samples, official_verdicts, compat, terminal, strict=True
    ):
        rows.append(
            {
                "source": sample["source"],
                "name": sample["name"],
                "question_id": sample["problem"].question_id,
                "official": off,
                "lcb_compat": com,
                "terminal": ter,
                "official_error": off_why,
                "compat_error": com_why,
                "terminal_error": ter_why,
                "compat_vs_official": None
                if com == off
                else explain(sample, bool(com), off, com_why, off_why),
                "terminal_vs_official": None
                if ter == off
                else explain(sample, bool(ter), off, ter_why, off_why),
            }
        )
    by_source: dict[str, list[dict]] = {}
    for row in rows:
        by_source.setdefault(row["source"].split(":")[0], []).append(row)
    print(
        f"{len(rows)} samples; official grader {official_time:.0f}s, ours (both graders, {args.runner}) {ours_time:.0f}s"
    )
    print("| samples | n | official pass | lcb-compat = official | terminal pass | terminal != official |")
    print("|---|---:|---:|---:|---:|---:|")
    for source, group in by_source.items():
        n = len(group)
        print(
            f"| {source} | {n} | {sum(r['official'] for r in group)} | {sum(r['lcb_compat'] == r['official'] for r in group)} "
            f"| {sum(bool(r['terminal']) for r in group)} | {sum(r['terminal'] != r['official'] for r in group)} |"
        )
    reasons: dict[str, int] = {}
    for row in rows:
        for key in ("compat_vs_official", "terminal_vs_official"):
            if row[key]:
                label = f"{key}: {row[key].split(':')[0]}: {row[key].split(': ', 1)[-1].split(':')[0]}"
                reasons[label] = reasons.get(label, 0) + 1
    print("\ndisagreements by explanation:")
    for label, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print(f"  {count:4d}  {label}")
    for row in rows:
        if row["compat_vs_official"] and not row["compat_vs_official"].startswith("timing"):
            print(
                f"  compat != official: {row['source']} {row['name']}: {row['compat_vs_official']} "
                f"(official: {row['official_error'][:80]!r}, compat: {row['compat_error'][:80]!r})"
            )
        if row["terminal_vs_official"] == "unexplained":
            print(
                f"  unexplained terminal != official: {row['source']} {row['name']} "
                f"(official: {row['official_error'][:80]!r}, terminal: {row['terminal_error'][:80]!r})"
            )
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
