"""Durability with real processes: gunicorn (`bot.server.wsgi:app`), `gitops-bot worker`
processes, the contract fake GitHub serving over loopback HTTP (in this process), a real bare git
origin, and the real review tools on a tiny repository of plain YAML.

- the worker SIGKILLed at 10 random points while 200 deliveries for 50 PRs come in: nothing is
  lost, one summary comment per PR, no check left pending on any head;
- one delivery POSTed ten times at once: stored once, reviewed once;
- the web process SIGKILLed during 500 deliveries: every delivery it acknowledged is processed;
- (in process) a re-run that keeps dying leaves a reviewed head's checks completed.

Set-up notes:

- The worker derives clone URLs from the API URL (`http://127.0.0.1:PORT/acme/gitops.git`),
  which the fake cannot serve: the mirror is primed with `git clone --bare` of the origin into
  `$GITOPS_BOT_DATA_DIR/mirrors/github/acme/gitops.git` before any worker starts, so both SHAs
  of every review are already there and no fetch happens.
- Each PR has its own installation id. GitHubForge spaces one installation's writes 1 s apart
  (GitHub's advice against secondary rate limits), so one review's four writes (check in
  progress, comment, two checks) take >= 3 s; with one installation 50 reviews would take
  >= 200 s. The worker threads spend that time asleep, hence `--concurrency 12` (8 to drain)
  on two cores rather than 2.
- The reconciler is off (`GITOPS_BOT_RECONCILE_SECONDS=3600`): it re-queues a PR whose head has
  no result, which would hide a lost delivery.
- Leases last 3 s, so a killed worker's job is re-run within a few seconds.

Every process is started in its own session and killed by its process group id in the fixture's
finalizer, whatever the outcome.
"""

from __future__ import annotations

import copy
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

import pytest

from bot.core.pipeline import Ports, review
from bot.core.report.format.check_run import APPROVAL_CHECK, REVIEW_CHECK
from bot.core.report.format.common import COMMENT_MARKER
from bot.engines.queue_sqlite import SqliteJobQueue
from bot.model.job import Forge, Job, JobAction, JobState, PullRequestRef
from bot.ports import CheckState, PullRequestInfo
from bot.server.worker import Worker
from tests.contract.github_fake import FakeGitHub
from tests.core.fakes import FakeCatalog, FakePolicyEngine, FakeRunner, FakeTree, ok
from tests.server.fakes import FakeForge, FakeMirror
from tests.server.helpers import EXAMPLES, SECRET, server_settings, sign

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
REPO = "acme/gitops"
LEASE_SECONDS = 3
SEED = 20240917
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: prod\ndata:\n"
_GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LC_ALL": "C",
}


# -- git -------------------------------------------------------------------------------------


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=_GIT_ENV, input=stdin, check=True, capture_output=True
    )
    return done.stdout.decode().strip()


def _blob(text: str) -> bytes:
    data = text.encode()
    return b"data %d\n%s\n" % (len(data), data)


def build_origin(path: Path, prs: int, heads: int) -> tuple[str, dict[int, list[str]]]:
    """A bare repository at `path`: `main` holds apps/cm.yaml, and PR n's branch `pr-n` has
    `heads` successive commits changing it. One `git fast-import`: (base SHA, {n: head SHAs})."""
    path.mkdir(parents=True)
    git(path, "init", "--bare", "--quiet", "--initial-branch=main")
    stream = bytearray()
    when = 1_700_000_000

    def commit(ref: str, mark: int, parent: int | None, value: str) -> None:
        stream.extend(b"commit %s\nmark :%d\n" % (ref.encode(), mark))
        stream.extend(b"committer Bob <bob@example.com> %d +0000\n" % (when + mark))
        stream.extend(_blob(f"{ref} {value}"))
        if parent is not None:
            stream.extend(b"from :%d\n" % parent)
        stream.extend(b"M 100644 inline apps/cm.yaml\n" + _blob(CM + f"  value: '{value}'"))

    commit("refs/heads/main", 1, None, "base")
    marks: dict[int, list[int]] = {}
    for number in range(1, prs + 1):
        parent = 1
        for k in range(heads):
            mark = 2 + (number - 1) * heads + k
            commit(f"refs/heads/pr-{number}", mark, parent, f"{number}.{k}")
            marks.setdefault(number, []).append(mark)
            parent = mark
    exported = path / "marks"
    git(path, "fast-import", "--quiet", f"--export-marks={exported}", stdin=bytes(stream))
    sha = dict(line.split() for line in exported.read_text().splitlines())
    exported.unlink()
    return sha[":1"], {n: [sha[f":{m}"] for m in ms] for n, ms in marks.items()}


def prime_mirror(origin: Path, data_dir: Path, repo: str = REPO) -> Path:
    """What the worker's GitMirror would hold after fetching every PR of `repo`."""
    mirror = data_dir / "mirrors" / "github" / f"{repo}.git"
    mirror.parent.mkdir(parents=True, exist_ok=True)
    git(data_dir, "clone", "--bare", "--quiet", str(origin), str(mirror))
    return mirror


# -- deliveries ------------------------------------------------------------------------------


def delivery_body(
    number: int, head: str, base: str, *, action: str, installation: int, repo: str = REPO
) -> bytes:
    """A real `pull_request` example (opened or synchronize) re-aimed at PR `number`."""
    example = {"opened": 12, "synchronize": 22}[action]
    payload = copy.deepcopy(EXAMPLES["pull_request"][example])
    assert payload["action"] == action
    payload["repository"]["full_name"] = repo
    payload["repository"]["name"] = repo.split("/")[1]
    payload["number"] = payload["pull_request"]["number"] = number
    payload["pull_request"]["head"]["sha"] = head
    payload["pull_request"]["base"]["sha"] = base
    payload["installation"]["id"] = installation
    return json.dumps(payload).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(
    port: int, body: bytes, delivery: str, event: str = "pull_request", timeout: float = 10
) -> tuple[int, dict[str, Any]]:
    """One signed delivery over a new connection, as GitHub sends it: (status, JSON answer)."""
    sent = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(body, SECRET),
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", "/github/webhook", body=body, headers=sent)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


# -- processes -------------------------------------------------------------------------------


def server_env(github: FakeGitHub, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **github.app_env(),
        "GITOPS_BOT_GITHUB_WEBHOOK_SECRET": SECRET,
        "GITOPS_BOT_DATA_DIR": str(data_dir),
        "GITOPS_BOT_QUEUE": f"sqlite:///{data_dir}/queue.sqlite3",
        "GITOPS_BOT_WORK_DIR": str(data_dir / "work"),
        "GITOPS_BOT_LEASE_SECONDS": str(LEASE_SECONDS),
        "GITOPS_BOT_RECONCILE_SECONDS": "3600",
        **extra,
    }


class Processes:
    """Every process started here runs in its own session (process group id = its PID), so
    killing the group also reaches its children (git, the policy engine's worker)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)
        self.started: list[subprocess.Popen[bytes]] = []

    def _spawn(self, argv: list[str], log_name: str) -> subprocess.Popen[bytes]:
        with (self.logs / log_name).open("ab") as log:
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(process)
        return process

    def web(self, port: int = 0, threads: int = 8) -> tuple[subprocess.Popen[bytes], int]:
        port = port or free_port()
        argv = [str(GUNICORN), "-b", f"127.0.0.1:{port}", "--workers", "1"]
        argv += ["--threads", str(threads), "--timeout", "30", "bot.server.wsgi:app"]
        process = self._spawn(argv, "web.log")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if _healthy(port):
                return process, port
            if process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"gunicorn did not start:\n{self.tail('web.log')}")

    def worker(self, *args: str) -> subprocess.Popen[bytes]:
        return self._spawn([sys.executable, "-m", "bot", "worker", *args], "worker.log")

    def kill(self, process: subprocess.Popen[bytes], sweep_after: float = 1.0) -> None:
        """SIGKILL the process, then whatever of its group outlives it by `sweep_after` s (a
        git child finishing its command is let finish, as after a real crash)."""
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + sweep_after
        while time.monotonic() < deadline and group_alive(process.pid):
            time.sleep(0.02)
        kill_group(process.pid)

    def stop_all(self) -> None:
        for process in self.started:
            kill_group(process.pid)
            if process.poll() is None:
                process.kill()
            process.wait()

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / name
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_group(pgid: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


# -- the queue, read from outside ------------------------------------------------------------


def jobs(database: Path) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(database, timeout=30)) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT delivery_id, pr_key, head_sha, state, attempts, error FROM jobs ORDER BY id"
        ).fetchall()
    return [dict(row) for row in rows]


def running(database: Path) -> list[dict[str, Any]]:
    return [job for job in jobs(database) if job["state"] == "running"]


def results(database: Path) -> set[tuple[str, str]]:
    with closing(sqlite3.connect(database, timeout=30)) as conn:
        return {(key, sha) for key, sha in conn.execute("SELECT pr_key, head_sha FROM results")}


def states(database: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for job in jobs(database):
        counts[job["state"]] = counts.get(job["state"], 0) + 1
    return counts


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, logs: Callable[[], str] = str
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{logs()}")
        time.sleep(0.1)


def writes(github: FakeGitHub) -> int:
    """Writes the fake answered so far (installation tokens aside)."""
    return sum(
        1
        for r in list(github.requests)
        if r.method != "GET" and r.operation_id != "apps/create-installation-access-token"
    )


def pr_key(number: int, repo: str = REPO) -> str:
    return f"github:{repo}#{number}"


# -- fixtures --------------------------------------------------------------------------------

PRS, HEADS = 50, 4
MAX_KILLS = 2  # of one job, in the random-kill test


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[int, list[str]]]:
    path = tmp_path_factory.mktemp("origin") / f"{REPO}.git"
    base, heads = build_origin(path, PRS, HEADS)
    return path, base, heads


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    with fake.serving():
        yield fake
    fake.assert_no_violations()


@pytest.fixture
def bot(
    tmp_path: Path, github: FakeGitHub, origin: tuple[Path, str, dict[int, list[str]]]
) -> Iterator[Processes]:
    """The fake seeded with the origin's PRs (head: the last commit), a primed mirror, and the
    process registry; every process is killed at teardown."""
    path, base, heads = origin
    for number, shas in heads.items():
        github.add_pull_request(
            REPO, number, author="bob", base_sha=base, head_sha=shas[-1], head_ref=f"pr-{number}"
        )
        github.add_commits(REPO, number, [(sha, "bob", "bob") for sha in shas])
    data = tmp_path / "data"
    prime_mirror(path, data)
    (data / "work").mkdir()
    processes = Processes(server_env(github, data), tmp_path / "logs")
    try:
        yield processes
    finally:
        processes.stop_all()


def _database(bot: Processes) -> Path:
    return Path(bot.env["GITOPS_BOT_DATA_DIR"]) / "queue.sqlite3"


# -- a. the worker killed ----------------------------------------------------------------------


def test_worker_killed_at_random_points_loses_nothing(bot, github, origin, capsys):
    _, base, heads = origin
    rng = random.Random(SEED)
    with capsys.disabled():
        print(f"\ntest_durability: random seed {SEED}")
    database = _database(bot)
    _, port = bot.web()
    worker = bot.worker("--concurrency", "12")

    # 4 deliveries per PR with successive heads, the PRs randomly interleaved.
    order = [number for number in heads for _ in range(HEADS)]
    rng.shuffle(order)
    seen: dict[int, int] = {}
    deliveries = []
    for number in order:
        k = seen[number] = seen.get(number, -1) + 1
        action = "opened" if k == 0 else "synchronize"
        body = delivery_body(number, heads[number][k], base, action=action, installation=number)
        deliveries.append((f"pr{number}-{k}", body))
    answers: dict[str, tuple[int, dict[str, Any]] | str] = {}

    def send() -> None:
        for delivery, body in deliveries:
            try:
                answers[delivery] = post(port, body, delivery)
            except OSError as error:
                answers[delivery] = repr(error)
            time.sleep(0.04)

    sender = threading.Thread(target=send)
    sender.start()
    # The random points: shortly after GitHub answered the worker's n-th write (a check in
    # progress, the comment, a completed check), so kills land in every stage of a review,
    # including the one between publishing and acknowledging. A review makes 4 writes.
    # Random crashes, not a crash loop: a kill waits while a running job has been killed
    # MAX_KILLS times already (the queue gives a job 5 claims; test_a_crash_looping_... covers
    # a job that always dies).
    points = sorted(rng.sample(range(1, 4 * PRS - 20), 10))
    with capsys.disabled():
        print(f"test_durability: the worker is killed after writes {points}")
    orphaned: dict[str, int] = {}  # running when a worker died: delivery id -> attempts
    try:
        for point in points:
            wait_for(lambda p=point: writes(github) >= p, 60, f"write #{point}")
            time.sleep(rng.uniform(0.0, 0.5))
            wait_for(
                lambda: all(j["attempts"] <= MAX_KILLS for j in running(database)),
                30,
                "no job killed too often",
            )
            bot.kill(worker)
            orphaned |= {j["delivery_id"]: j["attempts"] for j in running(database)}
            worker = bot.worker("--concurrency", "12")
    finally:
        sender.join()

    assert answers == {d: (202, {"accepted": 1, "duplicate": 0}) for d, _ in deliveries}
    wanted = {(pr_key(n), shas[-1]) for n, shas in heads.items()}
    wait_for(
        lambda: wanted <= results(database) and not {"pending", "running"} & set(states(database)),
        90,
        "every PR's head reviewed",
        lambda: bot.tail("worker.log"),
    )
    rows = {job["delivery_id"]: job for job in jobs(database)}
    with capsys.disabled():
        print(
            f"test_durability: {len(orphaned)} jobs orphaned by 10 kills; "
            f"final states {states(database)}"
        )

    # 0 lost: every delivery stored, every head reviewed, nothing left undone or failed.
    assert set(rows) == {d for d, _ in deliveries}
    assert wanted <= results(database)
    assert {job["state"] for job in rows.values()} <= {"done", "superseded"}, bot.tail("worker.log")
    # A killed worker's jobs were re-run (after their lease expired), or a newer head took over.
    assert orphaned, "no kill landed on a running job: the test exercised nothing"
    for delivery, attempts in orphaned.items():
        job = rows[delivery]
        assert job["state"] == "superseded" or job["attempts"] > attempts, job
    for number, shas in heads.items():
        comments = github.comments(REPO, number)
        assert len(comments) == 1, (number, [c["body"][:80] for c in comments])
        assert comments[0]["body"].startswith(COMMENT_MARKER)
        runs = github.check_runs(REPO, shas[-1])
        assert {run["name"] for run in runs} == {REVIEW_CHECK, APPROVAL_CHECK}, number
        pending = [run["name"] for run in runs if run["status"] != "completed"]
        assert not pending, (number, pending)
        for stale in shas[:-1]:  # nothing is ever written for a superseded head
            assert github.check_runs(REPO, stale) == [], (number, stale)


# -- b. one delivery ten times at once -------------------------------------------------------


def test_the_same_delivery_ten_times_at_once_is_stored_and_reviewed_once(bot, github, origin):
    _, base, heads = origin
    database = _database(bot)
    _, port = bot.web()
    body = delivery_body(1, heads[1][-1], base, action="opened", installation=1)
    barrier = threading.Barrier(10)
    answers: list[tuple[int, dict[str, Any]]] = []

    def send() -> None:
        barrier.wait()
        answers.append(post(port, body, "same-delivery-1"))

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers, key=lambda a: -a[1]["accepted"]) == [
        (202, {"accepted": 1, "duplicate": 0}),
        *[(202, {"accepted": 0, "duplicate": 1})] * 9,
    ]
    assert [(j["delivery_id"], j["state"]) for j in jobs(database)] == [
        ("same-delivery-1", "pending")
    ]
    worker = bot.worker("--once", "--concurrency", "2")
    assert worker.wait(timeout=60) == 0, bot.tail("worker.log")
    assert [(j["delivery_id"], j["state"]) for j in jobs(database)] == [("same-delivery-1", "done")]
    [comment] = github.comments(REPO, 1)
    assert comment["body"].startswith(COMMENT_MARKER)
    runs = github.check_runs(REPO, heads[1][-1])
    assert sorted((r["name"], r["status"]) for r in runs) == [
        (APPROVAL_CHECK, "completed"),
        (REVIEW_CHECK, "completed"),
    ]


# -- c. the web process killed ---------------------------------------------------------------


def test_web_killed_during_500_deliveries_loses_no_acknowledged_one(bot, github, origin, capsys):
    _, base, heads = origin
    rng = random.Random(SEED + 1)
    database = _database(bot)
    web, port = bot.web()
    numbers = list(range(1, 11))
    deliveries = []
    for i in range(500):
        number = numbers[i % len(numbers)]
        k = (i // len(numbers)) * HEADS // 50  # the heads advance; the last 120 carry the final
        action = "opened" if i < len(numbers) else "synchronize"
        body = delivery_body(number, heads[number][k], base, action=action, installation=number)
        deliveries.append((f"web-{i}", body))
    kill_after = rng.randint(100, 350)
    with capsys.disabled():
        print(f"\ntest_durability: seed {SEED + 1}, web killed after {kill_after} answers")
    answers: dict[str, tuple[int, dict[str, Any]] | str] = {}
    lock = threading.Lock()
    work = iter(deliveries)
    answered = threading.Semaphore(0)

    def send() -> None:
        while True:
            with lock:
                item = next(work, None)
            if item is None:
                return
            delivery, body = item
            try:
                answers[delivery] = post(port, body, delivery, timeout=5)
            except (OSError, http.client.HTTPException) as error:
                answers[delivery] = repr(error)
                time.sleep(0.1)  # GitHub's deliveries keep coming while the web is down
            answered.release()

    senders = [threading.Thread(target=send) for _ in range(4)]
    for sender in senders:
        sender.start()
    try:
        for _ in range(kill_after):
            assert answered.acquire(timeout=30), "deliveries stopped being answered"
        gunicorn_workers = children(web.pid)
        assert gunicorn_workers, "gunicorn has no worker process"
        kill_group(web.pid)  # the master and its worker at once
        web.wait()
        for pid in gunicorn_workers:
            wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists(), 10, f"pid {pid} gone")
        acked_before = sum(1 for a in answers.values() if isinstance(a, tuple))
        web, _ = bot.web(port)
    finally:
        for sender in senders:
            sender.join()

    acked = {d for d, a in answers.items() if isinstance(a, tuple) and 200 <= a[0] < 300}
    failed = {d: a for d, a in answers.items() if d not in acked}
    with capsys.disabled():
        print(
            f"test_durability: {len(acked)} of 500 acknowledged ({acked_before} before the kill), "
            f"{len(failed)} failed: {sorted({a.split('(')[0] for a in map(str, failed.values())})}"
        )
    assert len(answers) == 500
    assert 0 < acked_before < len(acked), "the kill did not land mid-stream"
    assert all(answers[d] == (202, {"accepted": 1, "duplicate": 0}) for d in acked)
    assert all(isinstance(a, str) or a[0] >= 300 for a in failed.values())

    bot.kill(web)
    drain = bot.worker("--once", "--concurrency", "8")
    assert drain.wait(timeout=60) == 0, bot.tail("worker.log")
    rows = {job["delivery_id"]: job for job in jobs(database)}
    missing = acked - set(rows)
    assert not missing, f"acknowledged but not in the queue: {sorted(missing)[:10]}"
    unfinished = {
        d: j["state"] for d, j in rows.items() if j["state"] not in ("done", "superseded")
    }
    assert not unfinished, unfinished
    assert set(rows) <= {d for d, _ in deliveries}
    # The newest job of each PR carries its final head (acknowledged after the restart).
    assert results(database) == {(pr_key(n), heads[n][-1]) for n in numbers}, bot.tail("worker.log")
    with capsys.disabled():
        stored = len(set(failed) & set(rows))
        print(f"test_durability: {stored} unacknowledged deliveries were stored all the same")


# -- a crash loop (in process: a SIGKILL cannot be aimed between publishing and the ack) -------


class _Killed(BaseException):
    """The process dying mid-review: no ack, no fail, no cleanup."""


def test_a_crash_looping_rerun_leaves_a_reviewed_head_completed(tmp_path):
    """Regression, found by the random-kill test: every attempt marked the head's review check
    in progress again before reviewing. A job killed after publishing (before its ack), then on
    each re-run, ended FAILED by lease expiry with the check pending for good, and the
    reconciler skips a head that has a result."""
    now = [1000.0]
    queue = SqliteJobQueue(str(tmp_path / "queue.sqlite3"), clock=lambda: now[0])
    ref = PullRequestRef(Forge.GITHUB, REPO, 7, "1")
    head = "b" * 40
    forge = FakeForge()
    forge.add(PullRequestInfo(ref, "Bump", "bob", "open", False, "main", "a" * 40, "pr-7", head))
    cm = {"apps/cm.yaml": CM + "  value: '1'\n"}
    changed = {"apps/cm.yaml": CM + "  value: '2'\n"}
    mirror = FakeMirror({head: (FakeTree(cm, "base"), FakeTree(changed, "head"))})
    catalog = FakeCatalog({"1.37": {("", "v1", "ConfigMap"): {"type": "object"}}})
    dying = [False]

    def review_change(change, base, head_tree, log, facts, trusted):
        if dying[0]:
            raise _Killed
        ports = Ports(
            FakeRunner(lambda c, t: ok("")), catalog, FakePolicyEngine(), forge_facts=facts
        )
        return review(change, base, head_tree, ports, trusted_tree=trusted)

    worker = Worker(queue, lambda r: forge, mirror, review_change, server_settings(lease_seconds=3))
    try:
        queue.enqueue(Job("d1", ref, JobAction.REVIEW, "test", head))
        assert worker.run_once() is True
        assert queue.has_result(ref, head)
        # The same head again (a redelivery, `/gitops-bot review`), and every attempt dies.
        queue.enqueue(Job("d2", ref, JobAction.REVIEW, "test", head))
        dying[0] = True
        for _ in range(3):
            with pytest.raises(_Killed):
                worker.run_once()
            now[0] += 10  # the lease expires
        assert worker.run_once() is True  # the 4th claim gives up instead of dying again
        assert worker.run_once() is False
        assert queue.counts()[JobState.FAILED] == 1
        review_checks = [c for c in forge.checks if c.name == REVIEW_CHECK]
        assert (review_checks[-1].state, review_checks[-1].conclusion) == (
            CheckState.COMPLETED,
            "success",  # the published result stands
        )
    finally:
        queue.close()


def test_a_job_whose_every_worker_died_fails_visibly(tmp_path):
    """Attempts that never report (the worker was killed each time) end in failed checks on
    the head, not in a check left in progress."""
    now = [1000.0]
    queue = SqliteJobQueue(str(tmp_path / "queue.sqlite3"), clock=lambda: now[0])
    ref = PullRequestRef(Forge.GITHUB, REPO, 7, "1")
    head = "b" * 40
    forge = FakeForge()
    forge.add(PullRequestInfo(ref, "Bump", "bob", "open", False, "main", "a" * 40, "pr-7", head))
    mirror = FakeMirror({head: (FakeTree({}, "base"), FakeTree({}, "head"))})

    def review_change(*_args):
        raise _Killed

    worker = Worker(queue, lambda r: forge, mirror, review_change, server_settings(lease_seconds=3))
    try:
        queue.enqueue(Job("d1", ref, JobAction.REVIEW, "test", head))
        for _ in range(3):
            with pytest.raises(_Killed):
                worker.run_once()
            now[0] += 10
        assert forge.checks[-1].state is CheckState.IN_PROGRESS  # what a dead worker leaves
        assert worker.run_once() is True
        assert queue.counts()[JobState.FAILED] == 1
        latest = {c.name: c for c in forge.checks}
        assert {(c.state, c.conclusion) for c in latest.values()} == {
            (CheckState.COMPLETED, "failure")
        }
        assert "stopped 3 times" in latest[REVIEW_CHECK].summary
    finally:
        queue.close()
