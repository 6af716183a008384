"""Chart version constraints as Helm and source-controller resolve them (Masterminds semver)."""

import pytest

from bot.core.render.flux.semver import Constraint, newest

INDEX = [
    "1.0.0",
    "1.2.3",
    "1.2.10",
    "1.3.0-rc.1",
    "1.3.0",
    "2.0.0-alpha",
    "2.0.0-beta.2",
    "2.1.0",
    "0.2.5",
    "0.2.9",
    "0.0.3",
    "v3.0.0",
]


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("", "v3.0.0"),
        ("*", "v3.0.0"),
        ("1.2.3", "1.2.3"),
        ("=1.2.3", "1.2.3"),
        ("1.2", "1.2.10"),  # a missing part is a wildcard
        ("1.2.x", "1.2.10"),
        ("1.x", "1.3.0"),  # never a prerelease when the constraint has none
        ("~1.2.3", "1.2.10"),
        ("~1", "1.3.0"),
        ("^1.2.3", "1.3.0"),
        ("^0.2.5", "0.2.9"),
        ("^0.0.3", "0.0.3"),
        (">=1.0.0 <2.0.0", "1.3.0"),
        (">= 1.0.0, < 2", "1.3.0"),
        (">=1.0.0-alpha", "v3.0.0"),
        (">=2.0.0-alpha <2.1.0", "2.0.0-beta.2"),  # prereleases allowed when asked for
        ("1.2 - 1.2.5", "1.2.3"),
        ("<1.2.3 || >=2.1.0 <3", "2.1.0"),
        (">2.1", "v3.0.0"),
        ("<=1.2", "1.2.10"),
        ("!=3.0.0", "2.1.0"),
        ("4.x", None),
        ("not a version", None),
    ],
)
def test_newest_allowed(constraint: str, expected: str | None) -> None:
    assert newest(INDEX, constraint) == expected


def test_prerelease_ordering() -> None:
    allows = Constraint.parse(">=1.0.0-0")
    assert allows is not None
    assert (
        newest(["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-1"], ">=1.0.0-0")
        == "1.0.0-beta"
    )
