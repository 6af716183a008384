"""What the pure core needs from the world, as Protocols. Implementations live in bot/engines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from bot.model.approval import ForgeFacts
from bot.model.job import ClaimedJob, Job, JobState, PullRequestRef


class EntryMode(StrEnum):
    FILE = "file"
    EXECUTABLE = "executable"
    SYMLINK = "symlink"


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One file of a revision. `blob_id` is git's blob hash, so equal ids mean equal content."""

    blob_id: str
    mode: EntryMode
    size: int


class RepoTree(Protocol):
    """A read-only snapshot of the repository's files at one revision.

    Paths are repo-relative POSIX strings. Submodules and directories are not entries.
    """

    @property
    def tree_id(self) -> str:
        """Identifies the snapshot (commit SHA, or a content hash for a working tree)."""
        ...

    def entries(self) -> Mapping[str, TreeEntry]: ...

    def read(self, path: str) -> bytes:
        """The file's bytes; for a symlink, its target path. Raises KeyError when absent."""
        ...


class CommandFailure(StrEnum):
    TOOL_MISSING = "tool-missing"
    TIMEOUT = "timeout"
    OUTPUT_TOO_LARGE = "output-too-large"
    EXIT_STATUS = "exit-status"


@dataclass(frozen=True, slots=True)
class Command:
    """A tool invocation as a plain value: argv without a shell, run inside a materialised tree.

    `tool` is a logical name ("helm", "kustomize") that the runner maps to a binary; `args`
    holds repo-relative paths; `cwd` is repo-relative ("" is the repository root).
    `inputs` are the only repo files the tool gets to see (None: the whole tree). Rendering from
    exactly the tracked inputs keeps input tracking honest: a file the core forgot to track is
    missing from the render (a loud failure), never a silently stale "unchanged".
    """

    tool: str
    args: tuple[str, ...]
    cwd: str = ""
    inputs: frozenset[str] | None = None
    timeout_seconds: float = 120.0
    max_output_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class CommandResult:
    stdout: bytes
    stderr: str
    exit_status: int | None
    failure: CommandFailure | None = None
    message: str = ""  # the runner's own explanation of a failure (which env var, which limit)

    @property
    def ok(self) -> bool:
        return self.failure is None


class CommandRunner(Protocol):
    """Runs Commands hermetically: no network, no shell, bounded time and output."""

    def run(self, command: Command, tree: RepoTree) -> CommandResult: ...


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """One JSON-schema error: where in the instance, which keyword, and the validator's words."""

    message: str
    path: tuple[str | int, ...]
    keyword: str


@dataclass(frozen=True, slots=True)
class Violations:
    items: tuple[SchemaViolation, ...]
    more: bool = False  # True when the instance had more errors than the limit asked for


class CompiledSchema(Protocol):
    def violations(self, instance: Any, limit: int) -> Violations:
        """Every error of `instance` (not the first), at most `limit` of them."""
        ...


class SchemaCatalog(Protocol):
    """Compiled JSON schemas: the Kubernetes API per version, and any schema handed in.

    Implementations cache compiled validators for the life of the process.
    """

    def kubernetes_versions(self) -> tuple[str, ...]:
        """Bundled Kubernetes minor versions, oldest first, e.g. ("1.25", ..., "1.37")."""
        ...

    def kubernetes_kinds(self, version: str) -> frozenset[tuple[str, str, str]]:
        """(group, version, kind) of every top-level kind the API serves at `version`;
        the core group is ""."""
        ...

    def kubernetes_schema(
        self, version: str, group: str, api_version: str, kind: str, strict: bool
    ) -> CompiledSchema | None:
        """The kind's schema at `version` (strict: unknown fields are errors), or None."""
        ...

    def compile(self, schema: Mapping[str, Any]) -> CompiledSchema:
        """Compile any JSON schema (a CRD's, a custom one); raises SchemaCompileError."""
        ...


@dataclass(frozen=True, slots=True)
class PolicyModule:
    """One Rego file. `path` is repo-relative, or `builtin/<file>` for the built-in library."""

    path: str
    source: str
    rego_v0: bool = False


@dataclass(frozen=True, slots=True)
class PolicyResult:
    """A query's value for one input: JSON-like, None when undefined, or the error that stopped
    it (a builtin error, the evaluation budget running out)."""

    value: Any = None
    error: str = ""


class CompiledPolicies(Protocol):
    """Modules and data compiled once, evaluated for many inputs."""

    def evaluate(self, query: str, inputs: Sequence[Any]) -> list[PolicyResult]:
        """`query` (e.g. "data.main") once per input, in order; one result per input.
        An error in one input never hides the results of the others."""
        ...

    def close(self) -> None: ...


class PolicyEngine(Protocol):
    """A Rego engine (embedded regorus, or a real OPA server). No http.send, no network
    lookups, no environment access for policies."""

    name: str

    def compile(
        self,
        modules: Sequence[PolicyModule],
        data: Mapping[str, Any],
        budget_seconds: float,
    ) -> CompiledPolicies:
        """Raises PolicyCompileError (with file, line and column) for a module that does not
        parse or compile. `budget_seconds` bounds each single evaluation."""
        ...


class SignatureKind(StrEnum):
    NONE = "none"
    GPG = "gpg"
    SSH = "ssh"
    X509 = "x509"


class SignatureStatus(StrEnum):
    """What a verifier concluded about one signature, before identity and policy are applied."""

    GOOD = "good"
    BAD = "bad"  # the signature does not match the payload (tampered, or wrong key)
    UNKNOWN_KEY = "unknown-key"  # made by a key the trusted signers do not contain
    EXPIRED_KEY = "expired-key"
    REVOKED_KEY = "revoked-key"
    UNTRUSTED_ROOT = "untrusted-root"  # X.509: no chain to a trusted root
    UNSUPPORTED = "unsupported"  # a kind this verifier cannot check


@dataclass(frozen=True, slots=True)
class TrustedSigners:
    """Trust material read from the BASE revision (file contents, not paths)."""

    gpg_public_keys: bytes = b""  # ASCII-armored or binary public keys
    gpg_fingerprints: frozenset[str] = frozenset()  # allow-list; empty: every key given
    ssh_allowed_signers: bytes = b""  # ssh-keygen ALLOWED SIGNERS format
    x509_roots: bytes = b""  # PEM
    sigstore_issuers: frozenset[str] = frozenset()  # OIDC issuers accepted on Fulcio certificates


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    status: SignatureStatus
    signer: str = ""  # GPG fingerprint, SSH principal, X.509 subject/email
    identities: tuple[str, ...] = ()  # emails the signing key vouches for (GPG uids, SSH principal)
    reason: str = ""  # the tool's words, for the report


@dataclass(frozen=True, slots=True)
class SignatureRequest:
    kind: SignatureKind
    payload: bytes
    signature: bytes
    signed_at: int
    principal: str


class SignatureVerifier(Protocol):
    """Verifies detached signatures of commit payloads with real tools (gpgv, ssh-keygen)."""

    def verify_all(
        self, requests: Sequence[SignatureRequest], trusted: TrustedSigners
    ) -> list[SignatureCheck]:
        """One check per request, in order (implementations may verify concurrently)."""
        ...

    def verify(
        self,
        kind: SignatureKind,
        payload: bytes,
        signature: bytes,
        *,
        trusted: TrustedSigners,
        signed_at: int,
        principal: str,
    ) -> SignatureCheck:
        """`signed_at`: the commit time (Unix seconds), for key validity windows;
        `principal`: the identity the signature must be made by (SSH allowed signers)."""
        ...


@dataclass(frozen=True, slots=True)
class CommitObject:
    """A commit as git stores it: the raw object, and the fields the verdict needs."""

    sha: str
    raw: bytes
    parents: tuple[str, ...]
    author_email: str
    committer_name: str
    committer_email: str
    committed_at: int
    summary: str  # first line of the message


class CommitLog(Protocol):
    def commits(self, base: str, head: str) -> list[CommitObject]:
        """Every commit reachable from head and not from base, oldest first."""
        ...


class JobQueue(Protocol):
    """The durable queue between the web process and the workers (SQLite or PostgreSQL).

    Semantics every backend passes (tests/engines/test_queue_conformance.py):
    - enqueue is idempotent per delivery id;
    - a job whose PR already has a newer job accepted is superseded, never run: claim returns
      the newest pending job of a PR and marks the older pending ones SUPERSEDED;
    - one PR is never worked on by two workers at once (per-PR serialisation);
    - a claimed job is acked only after publishing; a job whose lease expired (its worker died)
      is claimable again, with attempt + 1; after `max_attempts` it is FAILED.
    """

    def enqueue(self, job: Job) -> bool:
        """Persist the job durably before returning. False: this delivery id was seen before."""
        ...

    def claim(self, worker: str, lease_seconds: float) -> ClaimedJob | None:
        """The next job to run, leased to `worker`; None when nothing is claimable."""
        ...

    def extend(self, claim: ClaimedJob, lease_seconds: float) -> bool:
        """Keep a long job's lease; False when the lease was lost (stop publishing)."""
        ...

    def ack(self, claim: ClaimedJob) -> None: ...

    def fail(self, claim: ClaimedJob, error: str, retry_in_seconds: float | None) -> None:
        """Give the job back: retried after `retry_in_seconds`, or FAILED when None."""
        ...

    def is_current(self, job: Job) -> bool:
        """False once a newer job of the same PR with another head SHA (or a CANCEL) was
        accepted: nothing may be written for a stale SHA."""
        ...

    def record_result(
        self, pull_request: PullRequestRef, head_sha: str, conclusion: str, fingerprint: str = ""
    ) -> None:
        """Remember that this head SHA got a published result (for the reconciler), and the
        change's rendered fingerprint there (for keep_if_rendered_unchanged)."""
        ...

    def has_result(self, pull_request: PullRequestRef, head_sha: str) -> bool: ...

    def fingerprints(self, pull_request: PullRequestRef) -> Mapping[str, str]:
        """Head SHA -> rendered fingerprint of every result recorded with one for this PR."""
        ...

    def counts(self) -> Mapping[JobState, int]:
        """Jobs per state (for /readyz and /metrics). Raises when the store is unreachable."""
        ...


@dataclass(frozen=True, slots=True)
class PullRequestInfo:
    """A pull/merge request as the forge reports it now."""

    ref: PullRequestRef
    title: str
    author: str
    state: str  # "open" | "closed" | "merged"
    draft: bool
    base_ref: str
    base_sha: str
    head_ref: str
    head_sha: str
    labels: frozenset[str] = frozenset()
    url: str = ""


class CheckState(StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class CheckAnnotation:
    """A finding pinned to a file line (GitHub check-run annotation levels)."""

    path: str
    start_line: int
    end_line: int
    level: str  # "notice" | "warning" | "failure"
    message: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class CheckReport:
    """One required check on one head SHA: `gitops-bot/review` or `gitops-bot/approval`.

    GitHub publishes it as a check run (annotations in batches of 50, text split to fit);
    GitLab as a commit status (state + description ≤ 255 chars + target_url)."""

    name: str
    head_sha: str
    state: CheckState
    conclusion: str = ""  # success | failure | neutral | cancelled, when COMPLETED
    title: str = ""
    summary: str = ""
    text: str = ""
    annotations: tuple[CheckAnnotation, ...] = ()
    details_url: str = ""


class CommentMode(StrEnum):
    UPDATE = "update"
    MINIMIZE_AND_REPOST = "minimize-and-repost"
    DELETE_AND_REPOST = "delete-and-repost"


class ForgeClient(Protocol):
    """One forge (GitHub or GitLab) as the worker needs it. Adapters check their requests
    against the vendor's API contract in tests/contract/."""

    def pull_request(self, ref: PullRequestRef) -> PullRequestInfo: ...

    def open_pull_requests(self, repo: str, installation: str) -> list[PullRequestInfo]: ...

    def approval_facts(self, pr: PullRequestInfo, teams: Sequence[str]) -> ForgeFacts:
        """Reviews (with the commit each approved), committers, the members of `teams`
        ("org/team") and the permission of every reviewer and the author."""
        ...

    def permission(self, ref: PullRequestRef, user: str) -> str:
        """One of none, read, triage, write, maintain, admin."""
        ...

    def upsert_comment(self, ref: PullRequestRef, marker: str, body: str, mode: CommentMode) -> str:
        """Create or replace the one comment that contains `marker`; returns its URL."""
        ...

    def publish_check(self, ref: PullRequestRef, check: CheckReport) -> None: ...


class RepoMirror(Protocol):
    """Repository content for the worker: a per-repository bare mirror, fetched with the
    forge token passed out-of-band (never in a URL, argv or log)."""

    def fetch(self, pr: PullRequestInfo) -> tuple[RepoTree, RepoTree, CommitLog]:
        """Base and head trees of the PR (after fetching both SHAs) and its commit log."""
        ...

    def merge_base(self, pr: PullRequestInfo) -> str:
        """The commit the head branched from (after `fetch`): the diff is taken from there, as
        the forge's own "Files changed" does, while trusted inputs stay at the base branch's
        tip. "" when the two histories share no commit."""
        ...


class ChartFetchStatus(StrEnum):
    FETCHED = "fetched"
    NOT_ALLOWED = "not-allowed"  # the operator did not allow-list the repository
    UNSUPPORTED = "unsupported"  # allowed, but of a kind never fetched (OCI)
    FAILED = "failed"  # allowed, but the index, version or archive could not be had


@dataclass(frozen=True, slots=True)
class ChartArchive:
    """A packaged chart (.tgz), verified against the repository index, named by its sha256."""

    digest: str  # sha256 hex of `data`
    filename: str  # e.g. podinfo-6.14.1.tgz
    version: str  # the version the constraint resolved to
    data: bytes


@dataclass(frozen=True, slots=True)
class ChartFetch:
    status: ChartFetchStatus
    archive: ChartArchive | None = None
    message: str = ""  # why it was not fetched, in the user's words


class ChartSource(Protocol):
    """Remote Helm charts, fetched only from repositories the operator allow-lists, into a
    content-addressed cache. Never raises for a chart it cannot give: it says why."""

    def fetch(self, repo_url: str, chart: str, version: str) -> ChartFetch:
        """`repo_url`: a HelmRepository URL (https://, http://, oci://); `chart`: the chart's
        name in that repository ("" when the URL names the chart, as OCIRepository does);
        `version`: a semver constraint ("" or "*": the newest stable version)."""
        ...
