"""The registry's pure parts, without building repositories: GTO's tag grammar (parse and
format, semantic versions) and the fold of one artifact's tags into its state."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgit.errors import MlgitError
from mlgit.models.registry.state import ArtifactState, fold
from mlgit.models.registry.tags import (
    ASSIGN,
    CREATE,
    DEPRECATE,
    DEREGISTER,
    REGISTER,
    UNASSIGN,
    TagName,
    bump,
    format_tag,
    parse_tag_name,
    semver_key,
    validate_artifact,
    validate_version,
)
from mlgit.repo.git import Tag

# ---------------------------------------------------------------- grammar
_word = st.from_regex(r"[a-z0-9]([a-z0-9_-]{0,8}[a-z0-9])?", fullmatch=True)
artifacts = st.one_of(
    _word,
    st.builds(lambda d, n: f"{'/'.join(d)}:{n}", st.lists(_word, min_size=1, max_size=3), _word),
)
_number = st.integers(0, 10_000).map(str)
_pre = st.lists(
    st.one_of(_number, st.from_regex(r"[a-z][a-z0-9-]{0,5}", fullmatch=True)),
    min_size=1,
    max_size=3,
)
_build = st.lists(st.from_regex(r"[0-9a-zA-Z-]{1,6}", fullmatch=True), min_size=1, max_size=3)
versions = st.builds(
    lambda major, minor, patch, pre, build: (
        f"v{major}.{minor}.{patch}"
        + (f"-{'.'.join(pre)}" if pre else "")
        + (f"+{'.'.join(build)}" if build else "")
    ),
    _number,
    _number,
    _number,
    st.none() | _pre,
    st.none() | _build,
)
counters = st.none() | st.integers(0, 10**6)


@st.composite
def tag_names(draw: st.DrawFn) -> TagName:
    artifact, counter = draw(artifacts), draw(counters)
    action = draw(st.sampled_from([REGISTER, DEREGISTER, ASSIGN, UNASSIGN, DEPRECATE, CREATE]))
    if action in (REGISTER, DEREGISTER):
        return TagName(artifact, action, version=draw(versions), counter=counter)
    if action in (ASSIGN, UNASSIGN):
        return TagName(artifact, action, stage=draw(_word), counter=counter)
    return TagName(artifact, action, counter=counter)


@given(tag_names())
def test_format_then_parse_is_the_identity(tag: TagName) -> None:
    name = format_tag(tag)
    assert ":" not in name  # `dir:name` is written `dir=name`
    assert parse_tag_name(name) == tag
    assert format_tag(parse_tag_name(name)) == name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("churn@v1.2.3", TagName("churn", REGISTER, version="v1.2.3")),
        ("churn@v1.2.3!", TagName("churn", DEREGISTER, version="v1.2.3")),
        ("churn#prod#7", TagName("churn", ASSIGN, stage="prod", counter=7)),
        ("churn#prod!#8", TagName("churn", UNASSIGN, stage="prod", counter=8)),
        ("churn@deprecated#9", TagName("churn", DEPRECATE, counter=9)),
        ("churn@created#1", TagName("churn", CREATE, counter=1)),
        ("models/nlp=churn@v2.0.0", TagName("models/nlp:churn", REGISTER, version="v2.0.0")),
        ("a.b=c#prod#1", TagName("a.b:c", ASSIGN, stage="prod", counter=1)),
        ("churn@v1.0.0-rc.1+b.5", TagName("churn", REGISTER, version="v1.0.0-rc.1+b.5")),
    ],
)
def test_gto_forms_parse(name: str, expected: TagName) -> None:
    assert parse_tag_name(name) == expected
    assert format_tag(expected) == name


@pytest.mark.parametrize(
    "name",
    ["churn@1.2.3", "churn@v01.2.3", "churn#prod#x", "churn@latest", "-churn#prod#1", "x#a#1#2"],
)
def test_names_outside_the_grammar_do_not_parse(name: str) -> None:
    assert parse_tag_name(name) is None


def test_mlgit_names_are_stricter_than_gtos() -> None:
    validate_artifact("models/nlp:churn-2")
    validate_version("v1.0.0-rc.1")
    with pytest.raises(MlgitError, match="not a valid registry name"):
        validate_artifact("Churn")
    with pytest.raises(MlgitError, match="not a semantic version tag"):
        validate_version("1.0.0")


def test_semver_order_and_bump() -> None:
    ordered = ["v0.9.0", "v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-beta", "v1.0.0", "v1.10.0"]
    shuffled = random.Random(0).sample(ordered, len(ordered))
    assert sorted(shuffled, key=semver_key) == ordered
    assert [bump("v1.2.3", p) for p in ("major", "minor", "patch")] == [
        "v2.0.0",
        "v1.3.0",
        "v1.2.4",
    ]
    assert bump(None, "minor") == "v0.1.0"


# ---------------------------------------------------------------- the fold of tags into state
def state(*tags: tuple[str, str, int]) -> ArtifactState:
    """The state of `churn` from (tag name, commit, tagger time) triples, given in any order."""
    items = []
    for name, commit, stamp in tags:
        parsed = parse_tag_name(name)
        assert parsed is not None and parsed.artifact == "churn"
        tag = Tag(name, commit, True, "", "Bench <b@x>", f"t{stamp}", stamp)
        items.append((parsed, tag, stamp))
    return fold("churn", items)


def holders(art: ArtifactState, stage: str) -> list[str]:
    return [v.version for v in art.assigned.get(stage, ())]


def test_register_and_assign() -> None:
    art = state(("churn@v1.0.0", "c1", 1), ("churn#prod#1", "c1", 2))
    assert art.latest is not None and art.latest.version == "v1.0.0"
    assert art.stages["prod"].version == "v1.0.0"
    assert [e.action for e in art.events] == [REGISTER, ASSIGN]
    assert art.events[1].version == "v1.0.0"  # the version registered at the tag's commit
    assert art.last_timestamp == 2 and not art.deprecated


def test_promote_unassigns_the_previous_holder() -> None:
    art = state(
        ("churn@v1.0.0", "c1", 1),
        ("churn#prod#1", "c1", 2),
        ("churn@v1.1.0", "c2", 3),
        ("churn#prod!#2", "c1", 4),
        ("churn#prod#3", "c2", 4),
    )
    assert art.stages["prod"].version == "v1.1.0"
    assert holders(art, "prod") == ["v1.1.0"]
    assert art.previous_holder("prod").version == "v1.0.0"
    assert [v.version for v in art.versions] == ["v1.1.0", "v1.0.0"]  # highest first


def test_a_stage_may_hold_several_versions_the_latest_assigned_shown() -> None:
    art = state(
        ("churn@v1.0.0", "c1", 1),
        ("churn@v1.1.0", "c2", 2),
        ("churn#prod#1", "c2", 3),
        ("churn#prod#2", "c1", 4),  # `gto assign` never unassigns
    )
    assert art.stages["prod"].version == "v1.0.0"
    assert holders(art, "prod") == ["v1.0.0", "v1.1.0"]


def test_unassign_empties_the_stage() -> None:
    art = state(("churn@v1.0.0", "c1", 1), ("churn#prod#1", "c1", 2), ("churn#prod!#2", "c1", 3))
    assert "prod" not in art.stages
    assert art.was_in("v1.0.0", "prod")


def test_deprecate_and_revive() -> None:
    deprecated = state(
        ("churn@v1.0.0", "c1", 1), ("churn#prod#1", "c1", 2), ("churn@deprecated#2", "c1", 3)
    )
    assert deprecated.deprecated and deprecated.shown_stages == {}
    assert deprecated.stages["prod"].version == "v1.0.0"  # kept in the history
    revived = state(
        ("churn@v1.0.0", "c1", 1), ("churn@deprecated#1", "c1", 2), ("churn@v1.1.0", "c2", 3)
    )
    assert not revived.deprecated


def test_deregister_then_register_again() -> None:
    gone = state(("churn@v1.0.0", "c1", 1), ("churn@v1.0.0!", "c1", 2))
    assert gone.latest is None and not gone.version("v1.0.0").active
    back = state(("churn@v1.0.0", "c1", 1), ("churn@v1.0.0!", "c1", 2), ("churn@v1.0.0", "c1", 3))
    assert back.latest is not None and back.latest.version == "v1.0.0"


@pytest.mark.parametrize("reverse", [False, True])
def test_a_cancelling_event_wins_a_same_second_tie(reverse: bool) -> None:
    pairs = [("churn@v1.0.0", "c1", 5), ("churn@v1.0.0!", "c1", 5)]
    art = state(*(reversed(pairs) if reverse else pairs))
    assert not art.version("v1.0.0").active
    pairs = [("churn#prod#1", "c1", 7), ("churn#prod!#2", "c1", 7)]
    art = state(("churn@v1.0.0", "c1", 1), *(reversed(pairs) if reverse else pairs))
    assert "prod" not in art.stages


def test_events_in_time_then_counter_then_priority_order() -> None:
    tags = [
        ("churn@v1.0.0", "c1", 10),
        ("churn@deprecated", "c1", 10),  # same second, no counter: registration first
        ("churn#prod#2", "c1", 10),
        ("churn#staging#1", "c1", 10),
        ("churn@v1.1.0", "c2", 9),
    ]
    for seed in range(5):
        art = state(*random.Random(seed).sample(tags, len(tags)))
        assert [e.tag for e in art.events] == [
            "churn@v1.1.0",
            "churn@v1.0.0",
            "churn@deprecated",
            "churn#staging#1",
            "churn#prod#2",
        ]


def test_an_assignment_at_a_commit_without_a_version() -> None:
    art = state(("churn#prod#1", "c9", 1))
    held = art.stages["prod"]
    assert (held.version, held.commit, held.registered) == ("c9", "c9", False)
    assert art.latest is None
    assert art.holders_of("prod") == []  # no registered version ever held it
