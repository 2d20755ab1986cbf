"""RL reward throughput and latency: acecoder's TestCaseReward and reward server against the AceCoder release's
RL reward harness style and a multiprocessing pool.

Workload: a rollout of real model samples, CodeGen-16B's HumanEval completions (../shared/data/codet), 1,024 of
them (round-robin over the 82 questions with at least 16 tests) x the question's first 16 CodeT-synthesized
asserts. Some samples loop forever or are slow, as in real rollouts.

    (1) TestCaseReward (binary, the default; and pass_rate) called in-process with the whole batch, and with
        batches of 64 / 256 / 1,024;
    (2) ``acecoder serve-reward`` (a separate process) with C concurrent one-sample clients (C = 64, 256,
        1,024), OpenRLHF's protocol, labels = row ids: total time and per-request latency percentiles;
    (3) the AceCoder release's RL reward harness style (evalplus-style): a multiprocessing.Process per sample,
        each test under its own 4 s limit, the sample under min(15, sum) + 1 s, from a thread pool;
    (4) a multiprocessing.Pool of reused worker processes running program + tests with a 1 s alarm per test
        (what many RL code rewards do; no isolation, state leaks from one program to the next).

Every runner uses the same number of workers; binary verdicts are compared with acecoder's.

Run: ``.venv/bin/python benchmarks/rewards.py [--workers N] [--samples 1024] [--tests 16]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from execution import DATA, _time_limit, _Timeout

SOURCE = DATA / "codet" / "humaneval_codegen16B_acecode_format.jsonl"


def build_workload(samples: int, tests: int) -> list[dict]:
    """``samples`` rollout items: {id, program, tests} from CodeGen-16B samples, round-robin over questions."""
    if not SOURCE.exists():
        sys.exit(f"benchmark data not found: {SOURCE} (needs ../shared/data/codet)")
    rows = [json.loads(line) for line in SOURCE.read_text().splitlines()]
    rows = [r for r in rows if len(r["test_cases"]) >= tests]
    items = []
    for k in range(max(len(r["inferences"]) for r in rows)):
        for r in rows:
            if k < len(r["inferences"]) and len(items) < samples:
                items.append(
                    {
                        "id": r["id"],
                        "program": r["question"] + r["inferences"][k]["completion"],
                        "tests": r["test_cases"][:tests],
                    }
                )
    return items


# ---- (1) acecoder in-process --------------------------------------------------------------------------------


def run_reward(
    items: list[dict], workers: int, mode: str, program_timeout: float | None = None
) -> tuple[float, list[float | None], dict]:
    """One call with the whole batch, then one call per batch size; also the programs' CPU seconds (a figure
    the machine's load does not change) and the engine's infrastructure errors."""
    from acecoder.execution.limits import SAMPLED
    from acecoder.reward import TestCaseReward

    completions, tests = [i["program"] for i in items], [i["tests"] for i in items]
    limits = SAMPLED.limits(program_timeout=program_timeout) if program_timeout is not None else None
    with TestCaseReward(mode, limits, workers=workers) as reward:
        # The first call warms the process up on other programs (the same ones with a comment added): the
        # engine gives a program identical to one it ran recently that run's verdicts, so the timed call is the
        # second call, with nothing of it run before.
        started = time.perf_counter()
        reward.dispatcher.run(reward.jobs([c + "\n# warm-up\n" for c in completions], tests))
        first = time.perf_counter() - started
        started = time.perf_counter()
        results = reward.dispatcher.run(reward.jobs(completions, tests))
        rewards, stats = reward.tally(results)
        elapsed = time.perf_counter() - started
        info = {
            "cpu_seconds": sum(getattr(r, "cpu_time", 0.0) for r in results),
            "infra": [r.infra_error for r in results if r.infra_error],
            "timeouts": stats.timeouts,
            "first": first,
            "reused": sum(r.reused for r in results),
            "batches": {},
        }
        for size in (64, 256, 1024):  # programs not run before (another comment), so nothing is reused
            fresh = [c + f"\n# batch of {size}\n" for c in completions[:size]]
            t = time.perf_counter()
            reward(completions=fresh, test_cases=tests[:size])
            info["batches"][size] = time.perf_counter() - t
    return elapsed, rewards, info


# ---- (2) the reward server ----------------------------------------------------------------------------------


def run_server(items: list[dict], workers: int, concurrency: list[int]) -> dict[int, dict]:
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        rows = Path(tmp) / "rows.jsonl"
        by_id = {i["id"]: i["tests"] for i in items}
        rows.write_text("".join(json.dumps({"id": k, "test_cases": v}) + "\n" for k, v in by_id.items()))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cli = str(Path(sys.executable).with_name("acecoder"))
        server = subprocess.Popen(
            [cli, "serve-reward", "--dataset", str(rows), "--port", str(port), "--workers", str(workers)],
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    httpx.get(f"{url}/health")
                    break
                time.sleep(0.1)
            out = {}
            for clients in concurrency:
                cpu = _process_cpu(server.pid), time.process_time()
                out[clients] = asyncio.run(_clients(url, items, clients))
                out[clients]["server_cpu"] = _process_cpu(server.pid) - cpu[0]
                out[clients]["client_cpu"] = time.process_time() - cpu[1]
            return out
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)


def _process_cpu(pid: int) -> float:
    """CPU seconds of the process (its own, not its sandbox servers')."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _clients(url: str, items: list[dict], clients: int) -> dict:
    """``clients`` concurrent keep-alive HTTP/1.1 connections, each posting one sample at a time. A minimal
    asyncio client: httpx's AsyncClient spent ~8 ms of CPU per request on these two cores (8.3 s for 1,024
    requests, more than the server itself), so the figure measured the client; this one spends ~0.25 ms."""
    host, port = url.removeprefix("http://").split(":")
    queue: asyncio.Queue = asyncio.Queue()
    for index, item in enumerate(items):
        queue.put_nowait((index, item))
    latencies: list[float] = []
    retries = [0]
    rewards: list[float | None] = [None] * len(items)

    async def post(connection, body: bytes) -> tuple[bytes, bytes]:
        reader, writer = connection
        writer.write(
            b"POST /get_reward HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (host.encode(), len(body)) + body
        )
        await writer.drain()
        status, length = await reader.readline(), 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, await reader.readexactly(length)

    async def client() -> None:
        connection = await asyncio.open_connection(host, int(port))
        try:
            while not queue.empty():
                index, item = queue.get_nowait()
                # a comment per concurrency level: the server would give a program it ran recently its verdicts
                query = item["program"] + f"\n# {clients} clients\n"
                body = json.dumps({"query": [query], "prompts": [""], "labels": [item["id"]]})
                started = time.perf_counter()
                for attempt in range(5):  # as OpenRLHF's client does
                    try:
                        status, payload = await post(connection, body.encode())
                        break
                    except (ConnectionError, asyncio.IncompleteReadError):
                        retries[0] += 1
                        if attempt == 4:
                            raise
                        connection[1].close()
                        connection = await asyncio.open_connection(host, int(port))
                latencies.append(time.perf_counter() - started)
                if b" 200 " not in status:
                    raise RuntimeError(f"server answered {status!r}: {payload[:200]!r}")
                rewards[index] = json.loads(payload)["rewards"][0]
        finally:
            connection[1].close()

    started = time.perf_counter()
    await asyncio.gather(*[client() for _ in range(clients)])
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda p: latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]  # noqa: E731
    return {
        "seconds": elapsed,
        "p50": pick(50),
        "p90": pick(90),
        "p99": pick(99),
        "max": latencies[-1],
        "rewards": rewards,
        "retries": retries[0],
    }


# ---- (3) the AceCoder release's RL harness style --------------------------------------------------------------


def _per_test_child(program: str, tests: list[str], limit: float, verdicts) -> None:
    """evalplus-style child: output swallowed, a temporary working directory, each test under its own limit."""
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        with (
            open(os.devnull, "w") as sink,
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
        ):
            namespace: dict = {"__name__": "__main__"}
            try:
                with _time_limit(limit):
                    exec(program, namespace)
            except BaseException:
                return
            for index, test in enumerate(tests):
                try:
                    with _time_limit(limit):
                        exec(test, namespace)
                    verdicts[index] = 1
                except BaseException:
                    verdicts[index] = 0


def run_release_style(items: list[dict], workers: int, limit: float = 4.0) -> tuple[float, list[float]]:
    ctx = multiprocessing.get_context("fork")

    def one(item: dict) -> float:
        tests = item["tests"]
        verdicts = ctx.Array("b", [0] * len(tests))
        process = ctx.Process(target=_per_test_child, args=(item["program"], tests, limit, verdicts))
        process.start()
        process.join(min(15.0, limit * len(tests)) + 1)
        if process.is_alive():
            process.kill()
            process.join()
        return 1.0 if all(verdicts) else 0.0

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        rewards = list(pool.map(one, items))
    return time.perf_counter() - started, rewards


# ---- (4) a multiprocessing pool -----------------------------------------------------------------------------


def _pool_task(job: tuple[str, list[str]]) -> float:
    program, tests = job
    namespace: dict = {"__name__": "__main__"}
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            with _time_limit(1.0):
                exec(program, namespace)
            for test in tests:
                with _time_limit(1.0):
                    exec(test, namespace)
        except (Exception, _Timeout, SystemExit):
            return 0.0
    return 1.0


def run_pool(items: list[dict], workers: int) -> tuple[float, list[float]]:
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        rewards = pool.map(_pool_task, [(i["program"], i["tests"]) for i in items], chunksize=8)
    return time.perf_counter() - started, rewards


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--samples", type=int, default=1024)
    parser.add_argument("--tests", type=int, default=16)
    parser.add_argument("--skip-competitors", action="store_true")
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument(
        "--compare-budget",
        type=float,
        help="also time the binary call at this program budget (e.g. 1.0, the reward's budget before issue 18)",
    )
    args = parser.parse_args()
    from acecoder.reward import SUPPORTS_STOP_ON_FAILURE

    items = build_workload(args.samples, args.tests)
    print(
        f"workload: {len(items)} CodeGen-16B HumanEval samples x {args.tests} CodeT asserts; {args.workers} "
        f"workers on {os.cpu_count()} cores; load average before: {os.getloadavg()}; "
        f"engine stop_on_failure: {SUPPORTS_STOP_ON_FAILURE}"
    )
    elapsed, ours, info = run_reward(items, args.workers, "binary")
    print(
        f"(1) TestCaseReward binary, {len(items)} in one call (the second; the first, on other programs: "
        f"{info['first']:.2f} s): {elapsed:.2f} s ({len(items) / elapsed:.0f} samples/s); programs' CPU "
        f"{info['cpu_seconds']:.2f} s; {info['reused']} identical to an earlier program of the call; "
        f"{sum(r or 0 for r in ours):.0f} pass all tests; {info['timeouts']} with a timeout; infrastructure "
        f"errors: {info['infra'] or 'none'}"
    )
    print("    batches: " + ", ".join(f"{k}: {v:.2f} s" for k, v in info["batches"].items()))
    if args.compare_budget is not None:
        other, theirs, other_info = run_reward(items, args.workers, "binary", args.compare_budget)
        changed = sum(a != b for a, b in zip(ours, theirs, strict=True))
        print(
            f"    at a {args.compare_budget:g} s program budget instead: {other:.2f} s ({other / elapsed:.2f}x the "
            f"default's time); programs' CPU {other_info['cpu_seconds']:.2f} s; rewards that differ: {changed}"
        )
    elapsed_rate, rates, info_rate = run_reward(items, args.workers, "pass_rate")
    scored = [r for r in rates if r is not None]
    print(
        f"    TestCaseReward pass_rate: {elapsed_rate:.2f} s; programs' CPU {info_rate['cpu_seconds']:.2f} s; "
        f"mean pass rate {statistics.mean(scored):.3f}; infrastructure errors: {info_rate['infra'] or 'none'}"
    )
    served = {} if args.skip_server else run_server(items, args.workers, [64, 256, 1024])
    for clients, result in served.items():
        agree = sum(a == b for a, b in zip(result["rewards"], ours, strict=True)) / len(items)
        print(
            f"(2) server, {clients:4d} concurrent one-sample clients: {result['seconds']:.2f} s "
            f"({len(items) / result['seconds']:.0f} req/s); latency p50 {result['p50'] * 1000:.0f} ms, "
            f"p90 {result['p90'] * 1000:.0f} ms, p99 {result['p99'] * 1000:.0f} ms, "
            f"max {result['max'] * 1000:.0f} ms; agree {agree:.1%}; client retries {result['retries']}; "
            f"CPU: server process {result['server_cpu']:.2f} s, clients {result['client_cpu']:.2f} s"
        )
    if not args.skip_competitors:
        for name, runner in (
            ("(3) release RL harness style (Process per sample, 4 s per test)", run_release_style),
            ("(4) multiprocessing.Pool (reused workers, 1 s alarm per test)", run_pool),
        ):
            seconds, rewards = runner(items, args.workers)
            agree = sum(a == b for a, b in zip(rewards, ours, strict=True)) / len(items)
            print(
                f"{name}: {seconds:.2f} s ({elapsed and seconds / elapsed:.1f}x acecoder); agree {agree:.1%}"
            )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
