import pytest

from bot.core.trusted_inputs import load_trusted_inputs, parse_config
from bot.model.errors import TrustedInputError
from bot.model.finding import Severity
from bot.model.render import HelmRelease
from bot.model.repo_config import HelmReleaseConfig, RepoConfig
from tests.core.fakes import FakeTree


def test_full_config():
    config = parse_config(
        b"version: 1\nfail_on: warning\nrender:\n  timeout_seconds: 30\n  ignore: ['vendor/*']\n"
        b"  helm:\n    releases:\n      - chart: charts/app/\n        namespace: prod\n"
        b"        values: [charts/app/values-prod.yaml]\n"
        b"diff:\n  ignore_labels: [team]\n"
    )
    assert config.fail_on is Severity.WARNING
    assert config.render.timeout_seconds == 30
    assert config.render.ignore == ("vendor/*",)
    assert config.render.helm_releases == (
        HelmReleaseConfig(
            "charts/app", HelmRelease("app", "prod", ("charts/app/values-prod.yaml",))
        ),
    )
    assert config.diff.ignore_labels == ("team", "helm.sh/chart")


@pytest.mark.parametrize(
    ("content", "line", "text"),
    [
        (b"render:\n  timout_seconds: 3\n", 2, "unknown key 'timout_seconds'"),
        (b"fail_on: sometimes\n", 1, "unknown level 'sometimes'"),
        (b"render:\n  timeout_seconds: -1\n", 2, "must be a positive number"),
        (b"render: [1]\n", 1, "must be a mapping"),
        (b"render:\n  ignore: 'x'\n", 2, "must be a list of strings"),
        (b"render:\n  helm:\n    releases:\n      - name: x\n", 4, "needs `chart:"),
        (b"render: {\n", 2, "yaml"),
    ],
    ids=[
        "typo",
        "bad-level",
        "negative",
        "not-mapping",
        "not-list",
        "release-without-chart",
        "bad-yaml",
    ],
)
def test_broken_config_names_file_and_line(content, line, text):
    with pytest.raises(TrustedInputError) as raised:
        parse_config(content)
    error = raised.value
    assert error.location is not None
    assert (error.location.path, error.location.line) == (".gitops-bot.yaml", line)
    assert text.lower() in error.diagnostics().lower()


def test_defaults_without_config_file():
    trusted = load_trusted_inputs(FakeTree({"a.yaml": "x: 1"}), "abc1234")
    assert trusted.config == RepoConfig()
    assert trusted.source.startswith("defaults")
