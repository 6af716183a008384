"""regorus in a worker process, so a policy that loops or explodes can be stopped.

regorus cannot be interrupted from Python, so evaluation happens in a forked child holding the
compiled engine. The child records which input it is evaluating and since when in shared memory;
the parent kills it when one evaluation outlives its budget, reports that input, restarts the
child and carries on with the rest. A memory cap turns an exploding comprehension into a crash
of the child, handled the same way.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import multiprocessing.connection
import os
import resource
import time
from collections.abc import Mapping, Sequence
from typing import Any

from bot.engines.regorus_engine import build_engine, evaluate_one
from bot.model.errors import PolicyCompileError, PolicyEngineError
from bot.ports import PolicyModule, PolicyResult

MEMORY_LIMIT_BYTES = 4 * 1024**3
_CHUNK = 256
_POLL_SECONDS = 0.05


def _serve(
    conn: multiprocessing.connection.Connection,
    modules: Sequence[PolicyModule],
    data: Mapping[str, Any],
    current: Any,
    started: Any,
) -> None:
    faulthandler.disable()  # an aborted evaluation is the parent's to report, not a crash dump
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    # regorus prints allocation failures and backtraces to stderr; the parent reports them.
    with open(os.devnull, "wb") as devnull:  # noqa: PTH123
        os.dup2(devnull.fileno(), 2)
    try:
        engine = build_engine(modules, data)
    except PolicyCompileError as error:
        conn.send(("compile-error", error.message, error.location, error.hint))
        return
    conn.send(("ready",))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        query, inputs, offset = request
        chunk: list[PolicyResult] = []
        for i, value in enumerate(inputs):
            current.value = offset + i
            started.value = time.monotonic()
            chunk.append(evaluate_one(engine, query, value))
            if len(chunk) >= _CHUNK:
                conn.send(("results", chunk))
                chunk = []
        started.value = 0.0
        conn.send(("results", chunk))
        conn.send(("done",))


class WorkerPolicies:
    """CompiledPolicies evaluated in a child process with a per-evaluation time budget."""

    def __init__(
        self, modules: Sequence[PolicyModule], data: Mapping[str, Any], budget_seconds: float
    ) -> None:
        self._modules = list(modules)
        self._data = data
        self._budget = budget_seconds
        self._context = multiprocessing.get_context("fork")
        self._process: Any = None
        self._conn: multiprocessing.connection.Connection | None = None
        self._current = self._context.Value("q", -1, lock=False)
        self._started = self._context.Value("d", 0.0, lock=False)
        self._start()

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        self._process = self._context.Process(
            target=_serve,
            args=(child, self._modules, self._data, self._current, self._started),
            daemon=True,
        )
        self._process.start()
        child.close()
        self._conn = parent
        if not parent.poll(max(self._budget, 30.0)):
            self._kill()
            raise PolicyEngineError("the policy engine did not start in time")
        message = parent.recv()
        if message[0] == "compile-error":
            self._kill()
            raise PolicyCompileError(message[1], message[2], message[3])

    def _kill(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
        if self._process is not None:
            self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def evaluate(self, query: str, inputs: Sequence[Any]) -> list[PolicyResult]:
        results: list[PolicyResult] = []
        stopped: dict[int, PolicyResult] = {}  # inputs that outran the budget: never rerun
        while len(results) < len(inputs):
            start = len(results)
            if start in stopped:
                results.append(stopped[start])
                continue
            end = min([i for i in stopped if i > start] or [len(inputs)])
            got, stuck = self._run(query, inputs[start:end], start)
            results.extend(got)
            if stuck is not None:
                stopped[stuck[0]] = stuck[1]
        return results

    def _run(
        self, query: str, inputs: Sequence[Any], offset: int
    ) -> tuple[list[PolicyResult], tuple[int, PolicyResult] | None]:
        """Results received for inputs from `offset` on, and the input that had to be stopped.

        Results the child computed but had not sent when it was killed are lost; the caller
        evaluates those inputs again.
        """
        assert self._conn is not None
        self._started.value = 0.0
        self._conn.send((query, list(inputs), offset))
        got: list[PolicyResult] = []
        while True:
            if self._conn.poll(_POLL_SECONDS):
                try:
                    message = self._conn.recv()
                except EOFError:
                    return got, self._stop(offset + len(got), "crashed (out of memory?)")
                if message[0] == "done":
                    return got, None
                got.extend(message[1])
                continue
            started = self._started.value
            if started and time.monotonic() - started > self._budget:
                stuck = int(self._current.value)
                return got, self._stop(stuck, f"exceeded the {self._budget:g} s budget")
            if not self._process.is_alive():
                return got, self._stop(offset + len(got), "crashed (out of memory?)")

    def _stop(self, index: int, what: str) -> tuple[int, PolicyResult]:
        self._kill()
        self._start()
        return index, PolicyResult(error=f"policy evaluation {what} and was stopped")

    def close(self) -> None:
        self._kill()


class RegorusEngine:
    """The default PolicyEngine: regorus, with a time budget and a memory cap per evaluation."""

    name = "regorus"

    def compile(
        self,
        modules: Sequence[PolicyModule],
        data: Mapping[str, Any],
        budget_seconds: float,
    ) -> WorkerPolicies:
        return WorkerPolicies(modules, data, budget_seconds)
