"""Build the bundled example repository and its pull request as real git history."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bot.model.errors import UsageError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE_BRANCH = "main"
PR_BRANCH = "demo/bump-podinfo"
# Fixed identities and dates make the demo's commit SHAs (and so its comment) reproducible.
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Demo Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Demo Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LC_ALL": "C",
}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        env=_GIT_ENV,
        check=True,
        capture_output=True,
    )


def build_demo_repository(stack: ExitStack, examples: Path = EXAMPLES) -> tuple[Path, str, str]:
    """A temp git repo with `main` (examples/gitops-repo) and a PR branch (demo-pr.patch)."""
    source, patch = examples / "gitops-repo", examples / "demo-pr.patch"
    if not source.is_dir() or not patch.is_file():
        raise UsageError(
            f"the bundled example is missing ({source})",
            hint="run the demo from a checkout of the gitops-bot repository",
        )
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gitops-bot-demo-")))
    repo = tmp / "example-gitops-repo"
    shutil.copytree(source, repo)
    _git(repo, "init", "--quiet")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "--message", "Example GitOps repository")
    _git(repo, "checkout", "--quiet", "-b", PR_BRANCH)
    _git(repo, "apply", "--index", str(patch))
    _git(
        repo,
        "commit",
        "--quiet",
        "--message",
        "Bump podinfo in prod, rotate its token, add a PDB, retire legacy settings",
    )
    return repo, BASE_BRANCH, PR_BRANCH
