import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engines.workspace import Workspace
from tests.postgres_server import running_postgres

GOLDEN_DIR = Path(__file__).parent / "golden"

# The loopback OPA server (real OPA semantics behind OPA's REST API), for any test that asks.
pytest_plugins = ["tests.engines.opa_loopback"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="rewrite tests/golden/* from the current output instead of comparing",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """Compare text with tests/golden/<name>; rewrite it only with --update-goldens."""

    def check(name: str, actual: str) -> None:
        path = GOLDEN_DIR / name
        if request.config.getoption("--update-goldens"):
            path.write_text(actual, encoding="utf-8")
        assert path.exists(), f"missing golden file {path}: run pytest --update-goldens"
        assert actual == path.read_text(encoding="utf-8"), (
            f"{name} differs from its golden file; review the change, then pytest --update-goldens"
        )

    return check


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A private Workspace under the test's tmp dir, removed afterwards."""
    with Workspace(str(tmp_path)) as ws:
        yield ws


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A real PostgreSQL server on 127.0.0.1 for this test process (each xdist worker starts
    its own). Fails, never skips, when PostgreSQL is not installed."""
    # Not under pytest's tmp dir: its 0700 parents keep the `postgres` user out.
    base = Path(tempfile.mkdtemp(prefix="gitops-bot-pg-"))
    try:
        with running_postgres(base) as dsn:
            yield dsn
    finally:
        shutil.rmtree(base, ignore_errors=True)
