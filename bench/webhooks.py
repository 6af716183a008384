"""Benchmark: webhook ack latency under load, and one PR's review from webhook to comment.

Run: .venv/bin/python bench/webhooks.py   (prints one summary line last; exit 1 only on errors)

Ack: gunicorn (`bot.server.wsgi:app`, 1 worker x 8 threads, as docs/deploy.md runs it) on
127.0.0.1 with the SQLite queue receives signed `pull_request.synchronize` deliveries at 100/s for
30 s from a client in its own process (open loop: each delivery leaves at its scheduled time on a
new connection, as GitHub sends them), while two `gitops-bot worker --concurrency 2` processes
review the pull requests those deliveries name (the demo repository) against the contract fake
GitHub. Latency: from connecting to reading the answer. Lost: deliveries answered 2xx that are not
in the queue afterwards. A delivery not answered 2xx counts as an infinite latency.

End to end: a fresh web process and one idle worker; for each of 5 new pull requests on the demo
repository, from POSTing the `opened` delivery to the summary comment appearing on the fake
GitHub. This includes the worker's idle poll (2 s) and GitHub's write spacing (the App's writes to
one installation are 1 s apart; the comment is its second write). For reference, the same review
by the CLI in a fresh process (what the GitHub Action runs, without CI scheduling and checkout).
Nothing a user would otherwise run acknowledges webhooks, so the ack side has no alternative.

The mirror is primed with a bare clone of the demo repository (the fake serves no git), as in
tests/server/test_durability.py, whose process harness this script reuses.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from http.client import HTTPException
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.* (the fake GitHub)

from bot.entrypoints.demo import PR_BRANCH, build_demo_repository
from tests.contract.github_fake import FakeGitHub
from tests.server.test_durability import (
    REPO,
    Processes,
    delivery_body,
    git,
    jobs,
    post,
    prime_mirror,
    server_env,
)

RATE, SECONDS, LOAD_PRS, CLIENT_THREADS = 100, 30, 100, 32
E2E_PRS = range(1001, 1006)
TARGET_P99_MS, TARGET_E2E_S = 50.0, 3.0
LEASE = "120"  # the demo review on a loaded 2-core box must not outlive its lease


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def client(args: dict[str, Any]) -> None:
    """In its own process, so the fake GitHub's threads do not share its GIL."""
    port, rate, seconds = args["port"], args["rate"], args["seconds"]
    prs, base, head = args["prs"], args["base"], args["head"]
    bodies = {
        n: delivery_body(n, head, base, action="synchronize", installation=n)
        for n in range(1, prs + 1)
    }
    total = int(rate * seconds)
    answers: list[list[object]] = [[] for _ in range(total)]
    counter = itertools.count()
    start = time.perf_counter() + 0.2

    def send() -> None:
        while (i := next(counter)) < total:
            due = start + i / rate
            if (delay := due - time.perf_counter()) > 0:
                time.sleep(delay)
            began = time.perf_counter()
            try:
                status, _ = post(port, bodies[i % prs + 1], f"bench-{i}", timeout=10)
            except (OSError, HTTPException):
                status = 0
            answers[i] = [f"bench-{i}", began - due, time.perf_counter() - began, status]

    threads = [threading.Thread(target=send) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    Path(str(args["out"])).write_text(
        json.dumps({"elapsed": time.perf_counter() - start, "answers": answers})
    )


def seed(github: FakeGitHub, base: str, head: str) -> None:
    for number in [*range(1, LOAD_PRS + 1), *E2E_PRS]:
        github.add_pull_request(
            REPO, number, author="bob", base_sha=base, head_sha=head, head_ref=PR_BRANCH
        )
        github.add_commits(REPO, number, [(head, "bob", "bob")])
    github.add_team("acme/platform", ["alice"])
    github.add_team("acme/security", ["carol"])


def start(tmp: Path, name: str, github: FakeGitHub, demo: Path, stack: ExitStack) -> Processes:
    data = tmp / name
    prime_mirror(demo, data)
    (data / "work").mkdir()
    processes = Processes(
        server_env(github, data, GITOPS_BOT_LEASE_SECONDS=LEASE), tmp / f"logs-{name}"
    )
    stack.callback(processes.stop_all)
    return processes


def ack_latency(
    tmp: Path, github: FakeGitHub, demo: Path, base: str, head: str
) -> tuple[float, int, int, int]:
    """(p99 ms, lost, not acknowledged, sent)."""
    with ExitStack() as stack:
        processes = start(tmp, "ack", github, demo, stack)
        _, port = processes.web()
        for _ in range(2):
            processes.worker("--concurrency", "2")
        database = Path(processes.env["GITOPS_BOT_DATA_DIR"]) / "queue.sqlite3"
        # Busy before the load starts: one review per worker thread, so both processes are up.
        for number in range(1, 5):
            body = delivery_body(number, head, base, action="opened", installation=number)
            post(port, body, f"warm-up-{number}")
        deadline = time.monotonic() + 60
        while sum(1 for job in jobs(database) if job["state"] != "pending") < 4:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the workers did not start:\n{processes.tail('worker.log')}")
            time.sleep(0.05)
        out = tmp / "answers.json"
        args = {"port": port, "rate": RATE, "seconds": SECONDS, "prs": LOAD_PRS}
        args |= {"base": base, "head": head, "out": str(out)}
        argv = [sys.executable, __file__, "--client", json.dumps(args)]
        subprocess.run(argv, check=True, timeout=SECONDS + 120)
        stored = {job["delivery_id"]: job["state"] for job in jobs(database)}
    report = json.loads(out.read_text())
    answers = report["answers"]
    acked = [a for a in answers if 200 <= a[3] < 300]
    lost = sum(1 for a in acked if a[0] not in stored)
    latencies = [a[2] * 1000 if 200 <= a[3] < 300 else math.inf for a in answers]
    lags = [a[1] * 1000 for a in answers]
    busy = sum(1 for state in stored.values() if state in ("done", "running")) - 4  # warm-up
    print(
        f"ack: {len(answers)} deliveries in {report['elapsed']:.1f} s "
        f"({len(answers) / report['elapsed']:.0f}/s) over {LOAD_PRS} PRs; "
        f"{len(acked)} answered 2xx; latency p50 {percentile(latencies, 0.5):.1f} ms, "
        f"p90 {percentile(latencies, 0.9):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms, "
        f"max {max(latencies):.1f} ms; client send lag p99 {percentile(lags, 0.99):.1f} ms"
    )
    print(
        f"ack: meanwhile the 2 workers (4 threads) claimed {busy} jobs after the 4 warm-up "
        f"reviews (queue at the end: {dict(sorted(Counter(stored.values()).items()))})"
    )
    return (
        percentile(latencies, 0.99),
        lost,
        len(answers) - len(acked),
        len(answers),
    )


def end_to_end(tmp: Path, github: FakeGitHub, demo: Path, base: str, head: str) -> list[float]:
    with ExitStack() as stack:
        processes = start(tmp, "e2e", github, demo, stack)
        _, port = processes.web()
        processes.worker("--concurrency", "2")
        database = Path(processes.env["GITOPS_BOT_DATA_DIR"]) / "queue.sqlite3"
        time.sleep(3)  # started and idle
        times = []
        # Pauses spread over the worker's 2 s idle poll, so the runs sample its phase.
        for number, pause in zip(E2E_PRS, (0.3, 0.7, 1.1, 1.5, 1.9), strict=True):
            time.sleep(pause)
            body = delivery_body(number, head, base, action="opened", installation=number)
            began = time.perf_counter()
            status, answer = post(port, body, f"e2e-{number}")
            if status != 202:
                raise RuntimeError(f"delivery answered {status} {answer}")
            deadline = began + 60
            while not github.comments(REPO, number):
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"no comment after 60 s:\n{processes.tail('worker.log')}")
                time.sleep(0.005)
            times.append(time.perf_counter() - began)
            while any(job["state"] != "done" for job in jobs(database)):  # checks published
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"job not done:\n{processes.tail('worker.log')}")
                time.sleep(0.02)
    return times


def cli_review(demo: Path) -> float:
    argv = [sys.executable, "-m", "bot", "review", "--repo", str(demo), "--base", "main"]
    argv += ["--head", PR_BRANCH, "--format", "markdown"]
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, check=False)
    elapsed = time.perf_counter() - began
    if not done.stdout.startswith(b"<!-- gitops-bot:review -->"):
        raise RuntimeError(f"the CLI review failed: {done.stderr.decode()[-2000:]}")
    return elapsed


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        client(json.loads(sys.argv[2]))
        return 0
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gitops-bot-bench-")))
        demo, _, _ = build_demo_repository(stack)
        base, head = git(demo, "rev-parse", "main"), git(demo, "rev-parse", PR_BRANCH)
        github = FakeGitHub()
        stack.enter_context(github.serving())
        seed(github, base, head)
        print(
            f"setup: demo repository ({base[:7]} -> {head[:7]}), fake GitHub at "
            f"{github.base_url}, gunicorn 1 worker x 8 threads, SQLite queue under {tmp}; "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before the run"
        )
        p99, lost, unanswered, sent = ack_latency(tmp, github, demo, base, head)
        times = end_to_end(tmp, github, demo, base, head)
        cli_s = cli_review(demo)
        github.assert_no_violations()
    e2e = statistics.median(times)
    print(f"load average {os.getloadavg()[0]:.2f} after the run")
    print(
        "e2e: POST -> summary comment: "
        + ", ".join(f"{t:.2f} s" for t in times)
        + f" (median {e2e:.2f} s, max {max(times):.2f} s); "
        f"CLI review of the same PR in a fresh process {cli_s:.2f} s"
    )
    ok = p99 <= TARGET_P99_MS and lost == 0 and unanswered == 0 and e2e <= TARGET_E2E_S
    print(
        f"webhooks: ack p99 {p99:.1f} ms (target <= {TARGET_P99_MS:g} ms), {lost} lost of {sent}"
        + (f", {unanswered} not acknowledged" if unanswered else "")
        + f"; review e2e {e2e:.2f} s (target <= {TARGET_E2E_S:g} s) {'PASS' if ok else 'MISS'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
