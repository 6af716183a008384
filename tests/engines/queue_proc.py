"""Worker processes for the queue conformance tests: real processes, real clock, real kills.

`python -m tests.engines.queue_proc hold URL LEASE`: claim one job, print it as a JSON line,
then wait to be killed (never acks).
`python -m tests.engines.queue_proc drain URL DIR NAME`: touch DIR/ready-NAME, then claim and
ack until DIR/enqueued exists and nothing is claimable; a job marks its PR in DIR/running with
O_EXCL for as long as it runs, so two jobs of one PR at once show up in DIR/overlaps; prints the
acked delivery ids as JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

from bot.engines.queue_factory import open_queue


def hold(url: str, lease: float) -> None:
    queue = open_queue(url)
    claim = None
    while claim is None:
        claim = queue.claim("holder", lease)
    info = {
        "delivery_id": claim.job.delivery_id,
        "token": claim.token,
        "attempt": claim.attempt,
        "lease_expires_at": claim.lease_expires_at,
    }
    print(json.dumps(info), flush=True)
    time.sleep(3600)


def drain(url: str, directory: Path, name: str) -> None:
    queue = open_queue(url)
    (directory / f"ready-{name}").touch()
    running = directory / "running"
    acked: list[str] = []
    idle = 0
    while idle < 3:
        claim = queue.claim(name, 30.0)
        if claim is None:
            idle = idle + 1 if (directory / "enqueued").exists() else 0
            time.sleep(0.02)
            continue
        idle = 0
        marker = running / hashlib.sha1(claim.job.pull_request.key.encode()).hexdigest()
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            with (directory / "overlaps").open("a") as out:
                out.write(f"{name} {claim.job.delivery_id}\n")
        time.sleep(random.uniform(0.005, 0.03))  # the "work": other workers and pushes interleave
        marker.unlink(missing_ok=True)  # before the ack: after it, the PR may be claimed again
        queue.ack(claim)
        acked.append(claim.job.delivery_id)
    print(json.dumps(acked), flush=True)


if __name__ == "__main__":
    command, url, *rest = sys.argv[1:]
    if command == "hold":
        hold(url, float(rest[0]))
    else:
        drain(url, Path(rest[0]), rest[1])
