"""Commit signatures end to end: real SSH keys, real signed commits, the real CLI."""

import json
import subprocess

import pytest

from bot.entrypoints.cli import main

pytestmark = pytest.mark.integration

CONFIG = "signatures:\n  require: all\n  ssh_allowed_signers: .gitops-bot/allowed_signers\n"


def git(repo, *args, key=None, email="dev@example.com"):
    signing = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"] if key else []
    env = {"PATH": "/usr/bin:/bin", "HOME": str(repo), "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(
        [
            "git",
            "-c",
            f"user.email={email}",
            "-c",
            "user.name=Dev",
            "-c",
            "commit.gpgsign=false",
            *signing,
            *args,
        ],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def keypair(tmp_path, name):
    path = tmp_path / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True
    )
    return path, (tmp_path / f"{name}.pub").read_text().split()[:2]


@pytest.fixture
def repo(tmp_path):
    trusted_key, trusted_pub = keypair(tmp_path, "trusted")
    attacker_key, attacker_pub = keypair(tmp_path, "attacker")
    work = tmp_path / "repo"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / ".gitops-bot").mkdir()
    (work / ".gitops-bot/allowed_signers").write_text(f"dev@example.com {' '.join(trusted_pub)}\n")
    (work / ".gitops-bot.yaml").write_text(CONFIG)
    (work / "apps").mkdir()
    (work / "apps/cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-S", "-m", "base", key=trusted_key)
    return work, trusted_key, attacker_key, attacker_pub


def change(work, text, message, key=None, email="dev@example.com"):
    (work / "apps/cm.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\ndata: {{v: '{text}'}}\n"
    )
    git(work, "commit", "-q", "-a", *(["-S"] if key else []), "-m", message, key=key, email=email)


def verdicts(work, capsys, base="main~0", head="HEAD"):
    code = main(
        ["verify-commits", "--repo", str(work), "--base", base, "--head", head, "--format", "json"]
    )
    return code, [(c["summary"], c["verdict"]) for c in json.loads(capsys.readouterr().out)]


def test_signed_unsigned_and_untrusted_commits(repo, capsys):
    work, trusted, attacker, _ = repo
    base = git(work, "rev-parse", "HEAD")
    change(work, "1", "signed by a trusted key", key=trusted)
    change(work, "2", "not signed")
    change(work, "3", "signed by an unknown key", key=attacker)
    change(work, "4", "trusted key, other committer", key=trusted, email="mallory@example.com")
    code, found = verdicts(work, capsys, base=base)
    assert code == 1
    assert found == [
        ("signed by a trusted key", "verified"),
        ("not signed", "unsigned"),
        ("signed by an unknown key", "unknown-key"),
        ("trusted key, other committer", "unknown-key"),
    ]


def test_all_verified_exits_0(repo, capsys):
    work, trusted, _, _ = repo
    base = git(work, "rev-parse", "HEAD")
    change(work, "1", "one", key=trusted)
    change(work, "2", "two", key=trusted)
    code, found = verdicts(work, capsys, base=base)
    assert (code, found) == (0, [("one", "verified"), ("two", "verified")])


def test_signers_added_by_the_pr_itself_are_not_trusted(repo, capsys):
    work, _, attacker, attacker_pub = repo
    base = git(work, "rev-parse", "HEAD")
    signers = work / ".gitops-bot/allowed_signers"
    signers.write_text(signers.read_text() + f"dev@example.com {' '.join(attacker_pub)}\n")
    git(work, "commit", "-q", "-a", "-S", "-m", "trust me", key=attacker)
    code, found = verdicts(work, capsys, base=base)
    assert (code, found) == (1, [("trust me", "unknown-key")])


def test_review_reports_signatures_in_the_comment(repo, tmp_path):
    work, trusted, _, _ = repo
    base = git(work, "rev-parse", "HEAD")
    change(work, "1", "signed", key=trusted)
    change(work, "2", "unsigned")
    out = tmp_path / "r.json"
    head = git(work, "rev-parse", "HEAD")
    assert (
        main(
            [
                "review",
                "--repo",
                str(work),
                "--base",
                base,
                "--head",
                head,
                "--format",
                "json",
                "--output",
                str(out),
            ]
        )
        == 1
    )
    report = json.loads(out.read_text())
    assert [(c["summary"], c["verdict"]) for c in report["signatures"]] == [
        ("signed", "verified"),
        ("unsigned", "unsigned"),
    ]
    assert [f["rule_id"] for f in report["findings"] if f["rule_id"].startswith("commit-")] == [
        "commit-unsigned"
    ]


def test_forge_made_merge_is_recognised(repo, capsys):
    work, trusted, _, _ = repo
    base = git(work, "rev-parse", "HEAD")
    change(work, "1", "signed", key=trusted)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(work),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_COMMITTER_NAME": "GitHub",
        "GIT_COMMITTER_EMAIL": "noreply@github.com",
    }
    (work / "apps/cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {v: web}\n"
    )
    subprocess.run(
        [
            "git",
            "-c",
            "user.email=dev@example.com",
            "-c",
            "user.name=Dev",
            "commit",
            "-q",
            "-a",
            "-m",
            "Merge pull request #7 from dev/branch",
        ],
        cwd=work,
        env=env,
        check=True,
    )
    code, found = verdicts(work, capsys, base=base)
    assert (code, found) == (
        0,
        [("signed", "verified"), ("Merge pull request #7 from dev/branch", "forge-commit")],
    )


def test_every_commit_of_a_300_commit_pr_is_judged(repo, capsys):
    work, _, _, _ = repo
    base = git(work, "rev-parse", "HEAD")
    script = "".join(
        f"commit refs/heads/main\ncommitter Dev <dev@example.com> {1700000000 + i} +0000\ndata 3\nc{i % 10}\n"
        + ("from " + base + "\n" if i == 0 else "")
        + f"M 644 inline apps/n.txt\ndata {len(str(i))}\n{i}\n\n"
        for i in range(300)
    )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=work, input=script.encode(), check=True)
    code, found = verdicts(work, capsys, base=base)
    assert code == 1
    assert len(found) == 300 and {v for _, v in found} == {"unsigned"}
