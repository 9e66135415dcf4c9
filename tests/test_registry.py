"""The git-tag model registry: register, promote, rollback, deprecate, unassign, registry —
checked against the real `gto` reading the same tags."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlgit.models import registry
from tests.support import MODEL_CONFIG, Project, json_output, metrics, retrain

GTO = str(Path(sys.executable).parent / "gto")


def tags(project: Project) -> list[str]:
    return project.sh("git", "tag", "-l").stdout.split()


def gto(project: Project, *args: str):
    proc = project.sh(GTO, *args)
    return json.loads(proc.stdout)


def registry_json(project: Project, *args: str) -> dict:
    result = project.mlgit("registry", *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    data = json_output(result.stdout, "registry-result.schema.json")
    return data


def change_json(project: Project, *args: str) -> tuple[int, dict]:
    result = project.mlgit(*args, "--format", "json")
    data = json_output(result.stdout, "registry-result.schema.json")
    return result.exit_code, data


def gto_stages(project: Project) -> dict:
    shown = gto(project, "show", "--json")
    return {name: art["stage"] for name, art in shown.items()}


# ---------------------------------------------------------------- grammar
@pytest.mark.parametrize(
    "name",
    [
        "churn@v1.2.3",
        "churn@v1.2.3!",
        "churn@v1.0.0-rc.1+build.5",
        "churn#prod#7",
        "churn#prod!#8",
        "churn#prod",
        "churn@deprecated#9",
        "models/sub=churn#staging#3",
        "churn@1.2.3",
        "churn#prod#x",
        "Churn-2#prod#1",
        "churn@v01.2.3",
        "churn@latest",
        "churn#prod!",
        "churn@v1.0.0!#4",
        "churn@deprecated",
        "churn@created#3",
        "a.b=c#prod#1",
        "a=b=c#prod#1",
        "x/y#prod#1",
        "models/nlp=churn@v2.0.0",
        "churn#prod#1#2",
        "-churn#prod#1",
    ],
)
def test_grammar_parses_exactly_as_gto(name: str) -> None:
    from gto.constants import Action
    from gto.tag import parse_name

    ours = registry.parse_tag_name(name)
    theirs = parse_name(name, raise_on_fail=False)
    assert (ours is None) == (not theirs)
    if ours is not None:
        assert ours.artifact == theirs["name"]
        # GTO parses `@created` but gives it no action (and `gto show` then crashes)
        assert ours.action == (theirs["action"].value if "action" in theirs else "create")
        assert ours.version == theirs.get("version")
        assert ours.stage == theirs.get("stage")
        assert ours.counter == theirs.get("counter")
        assert registry.format_tag(ours) == name
        assert "action" not in theirs or theirs["action"] in Action


def test_version_order_is_gtos() -> None:
    from gto.versions import SemVer

    versions = ["v1.0.0", "v1.0.0-rc.2", "v1.0.0-rc.10", "v1.0.0-alpha", "v1.0.0-alpha.1",
                "v0.9.9", "v1.0.1", "v10.0.0", "v2.0.0", "v1.0.0-beta.11"]  # fmt: skip
    ours = sorted(versions, key=registry.semver_key)
    theirs = sorted(versions, key=SemVer)
    assert ours == theirs


def test_artifact_in_subfolder_is_written_with_equals() -> None:
    tag = registry.TagName("models/nlp:churn", registry.ASSIGN, stage="prod", counter=2)
    assert registry.format_tag(tag) == "models/nlp=churn#prod#2"
    assert registry.parse_tag_name("models/nlp=churn#prod#2") == tag


@pytest.mark.parametrize(("current", "part", "expected"), [
    (None, "patch", "v0.0.1"), ("v1.2.3", "patch", "v1.2.4"), ("v1.2.3", "minor", "v1.3.0"),
    ("v1.2.3", "major", "v2.0.0"), ("v1.0.0-rc.1", "patch", "v1.0.1"),
])  # fmt: skip
def test_bump(current: str | None, part: str, expected: str) -> None:
    assert registry.bump(current, part) == expected


# ---------------------------------------------------------------- register
def test_register_writes_annotated_tag_with_provenance(churn: Project) -> None:
    code, data = change_json(churn, "register", "churn", "--version", "v1.0.0")
    assert code == 0, data
    assert data["tags"] == ["churn@v1.0.0"]
    assert churn.sh("git", "cat-file", "-t", "churn@v1.0.0").stdout.strip() == "tag"
    message = churn.sh("git", "tag", "-l", "--format=%(contents)", "churn@v1.0.0").stdout
    summary, _, body = message.partition("\n\n")
    prov = json.loads(body)
    head = churn.sh("git", "rev-parse", "HEAD").stdout.strip()
    assert summary == "mlgit: register churn v1.0.0"
    assert prov["commit"] == head and prov["version"] == "v1.0.0"
    assert prov["metrics"]["roc_auc"] == 0.85
    assert prov["author"] == "Test User <test@example.com>"
    assert prov["mlgit"] and prov["schema_version"] == 1
    lock = (churn.root / "models/churn.pkl.dvc").read_text()
    assert prov["model"]["md5"] in lock and prov["model"]["source"] == "models/churn.pkl.dvc"
    assert prov["datasets"]["train"]["md5"] in (churn.root / "data/train.csv.dvc").read_text()
    shown = gto(churn, "show", "--json")
    assert shown["churn"]["version"] == "v1.0.0"


def test_register_bumps_and_refuses_duplicates(churn: Project) -> None:
    assert churn.mlgit("register", "churn").exit_code == 0
    assert "churn@v0.0.1" in tags(churn)
    again = churn.mlgit("register", "churn")
    assert again.exit_code == 2 and "already registered as churn v0.0.1" in again.stderr
    retrain(churn, 0.86)
    assert churn.mlgit("register", "churn", "--bump", "minor").exit_code == 0
    retrain(churn, 0.87)
    taken = churn.mlgit("register", "churn", "--version", "v0.1.0")
    assert taken.exit_code == 2 and "v0.1.0 is already registered" in taken.stderr
    assert sorted(t for t in tags(churn) if "@" in t) == ["churn@v0.0.1", "churn@v0.1.0"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["register", "Churn!"], "model name 'Churn!': not a valid registry name"),
        (["register", "churn", "--version", "1.0"], "version '1.0': not a semantic version"),
        (["promote", "churn", "--to", "prod", "--version", "v1"], "version 'v1'"),
        (["rollback", "churn#x", "--stage", "prod"], "model name 'churn#x'"),
        (["promote", "churn", "--to", "prod", "--force"], "--force needs --reason"),
    ],
)
def test_invalid_input_is_rejected_before_touching_git(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """Outside any repository: the error is about the input, not about git."""
    project = Project(root=tmp_path, remote=tmp_path)
    result = project.mlgit(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / ".git").exists()


def test_unknown_stage_is_rejected(churn: Project) -> None:
    result = churn.mlgit("promote", "churn", "--to", "prd")
    assert result.exit_code == 2
    assert "mlgit.yaml: stages: no stage 'prd'; did you mean 'prod'?" in result.stderr
    assert tags(churn) == []


# ---------------------------------------------------------------- promote, gto agreement
def test_promote_rollback_and_gto_read_the_same_state(churn: Project) -> None:
    code, first = change_json(churn, "promote", "churn", "--to", "staging")
    assert code == 0, first
    assert first["tags"] == ["churn@v0.0.1", "churn#staging#1"]
    assert churn.mlgit("promote", "churn", "--to", "prod").exit_code == 0
    retrain(churn, 0.86, "model-2")
    assert churn.mlgit("promote", "churn", "--to", "staging").exit_code == 0
    code, second = change_json(churn, "promote", "churn", "--to", "prod")
    assert code == 0 and second["previous"] == "v0.0.1" and second["version"] == "v0.0.2"
    ours = registry_json(churn, "--history")["models"]["churn"]
    assert ours["stages"] == {"prod": "v0.0.2", "staging": "v0.0.2"}
    assert gto_stages(churn) == {"churn": ours["stages"]}
    assert gto(churn, "show", "--json")["churn"]["version"] == ours["latest"] == "v0.0.2"

    code, back = change_json(churn, "rollback", "churn", "--stage", "prod", "--reason", "alerts")
    assert code == 0 and back["version"] == "v0.0.1" and back["previous"] == "v0.0.2"
    ours = registry_json(churn, "--history")["models"]["churn"]
    assert ours["stages"] == {"prod": "v0.0.1", "staging": "v0.0.2"}
    assert gto_stages(churn) == {"churn": ours["stages"]}
    assert ours["history"][-1]["reason"] == "alerts"

    history = gto(churn, "history", "churn", "--json")
    assert {e["ref"] for e in history} == {e["tag"] for e in ours["history"]}
    counters = [e["counter"] for e in ours["history"] if e["counter"] is not None]
    assert counters == list(range(1, len(counters) + 1))  # N in time order, none reused
    for event in history:  # gto resolves every assignment to the same version mlgit does
        mine = next(e for e in ours["history"] if e["tag"] == event["ref"])
        assert event["version"] == mine["version"]


def test_rollback_to_a_given_version_and_nothing_to_roll_back(churn: Project) -> None:
    nothing = churn.mlgit("rollback", "churn", "--stage", "prod")
    assert nothing.exit_code == 2 and "prod holds no version" in nothing.stderr
    churn.mlgit("promote", "churn", "--to", "staging")
    only = churn.mlgit("rollback", "churn", "--stage", "staging")
    assert only.exit_code == 2 and "staging held no other version before v0.0.1" in only.stderr
    assert "use `mlgit promote churn --to staging --version V`" in only.stderr
    retrain(churn, 0.86)
    churn.mlgit("promote", "churn", "--to", "staging")
    assert churn.mlgit("rollback", "churn", "--stage", "staging", "--to", "v0.0.1").exit_code == 0
    assert gto_stages(churn) == {"churn": {"staging": "v0.0.1"}}


def test_failed_gate_creates_no_tag(churn: Project) -> None:
    churn.mlgit("promote", "churn", "--to", "staging")
    before = tags(churn)
    retrain(churn, 0.80)  # drops 0.05 > max_drop 0.02 against staging
    code, data = change_json(churn, "promote", "churn", "--to", "staging")
    assert code == 1 and not data["ok"] and data["tags"] == []
    assert any("max_drop" in why for why in data["refused"])
    failed = [g for g in data["gates"] if not g["ok"]]
    assert failed[0]["baseline"] == 0.85 and failed[0]["value"] == 0.80
    assert tags(churn) == before


def test_policy_prod_requires_staging_and_force_records_reason(churn: Project) -> None:
    code, data = change_json(churn, "promote", "churn", "--to", "prod")
    assert code == 1 and data["tags"] == []
    assert "prod requires staging" in data["refused"][0]
    assert tags(churn) == []
    forced = churn.mlgit("promote", "churn", "--to", "prod", "--force", "--reason", "hotfix #12")
    assert forced.exit_code == 0, forced.output
    message = churn.sh("git", "tag", "-l", "--format=%(contents)", "churn#prod#1").stdout
    prov = json.loads(message.partition("\n\n")[2])
    assert prov["forced"] is True and prov["reason"] == "hotfix #12"
    assert "prod requires staging" in prov["overridden"][0]
    assert gto_stages(churn) == {"churn": {"prod": "v0.0.1"}}


def test_force_without_reason_is_exit_2(churn: Project) -> None:
    result = churn.mlgit("promote", "churn", "--to", "prod", "--force")
    assert result.exit_code == 2 and "--force needs --reason" in result.stderr
    assert tags(churn) == []


# ---------------------------------------------------------------- refusals
def test_dirty_tree_is_refused(churn: Project) -> None:
    churn.write("metrics.json", metrics(0.99))
    for args in (["register", "churn"], ["promote", "churn", "--to", "staging"]):
        result = churn.mlgit(*args)
        assert result.exit_code == 2
        assert "uncommitted changes (metrics.json)" in result.stderr
    assert tags(churn) == []


def test_model_not_pushed_to_dvc_remote_is_refused(churn: Project) -> None:
    churn.write("models/churn.pkl", "model-unpushed")
    churn.sh("dvc", "add", "-q", "models/churn.pkl")
    churn.commit("model not pushed")
    result = churn.mlgit("promote", "churn", "--to", "staging")
    assert result.exit_code == 2
    assert "models/churn.pkl: not in the DVC remote yet; run `dvc push`" in result.stderr
    assert tags(churn) == []


def test_model_changed_but_not_dvc_committed_is_refused(churn: Project) -> None:
    churn.write("models/churn.pkl", "edited in place")  # DVC-tracked: git does not see it
    result = churn.mlgit("register", "churn")
    assert result.exit_code == 2
    assert "models/churn.pkl: changed since DVC recorded it" in result.stderr
    assert tags(churn) == []


def test_missing_git_identity_is_a_clear_error(
    churn: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key)
    result = churn.mlgit("register", "churn")
    assert result.exit_code == 2
    assert "git has no identity to sign tags with; run `git config user.name" in result.stderr
    assert tags(churn) == []


# ---------------------------------------------------------------- push
def test_an_unreachable_remote_is_refused_before_any_tag(churn: Project) -> None:
    result = churn.mlgit("promote", "churn", "--to", "staging", "--push", "nowhere")
    assert result.exit_code == 2
    assert "cannot fetch the registry's tags from 'nowhere' before pushing" in result.stderr
    assert tags(churn) == []


def test_failed_push_keeps_local_state_and_says_how_to_retry(
    churn: Project, tmp_path: Path
) -> None:
    bare = tmp_path / "guarded.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'tags are protected here' >&2\nexit 1\n")
    hook.chmod(0o755)
    churn.sh("git", "remote", "add", "guarded", str(bare))
    result = churn.mlgit("promote", "churn", "--to", "staging", "--push", "guarded")
    assert result.exit_code == 2
    assert "pushing to 'guarded' failed" in result.stderr
    assert "retry with: git push guarded refs/tags/churn@v0.0.1 'refs/tags/churn#staging#1'" in (
        result.stderr
    )
    assert tags(churn) == ["churn#staging#1", "churn@v0.0.1"]
    assert registry_json(churn)["models"]["churn"]["stages"] == {"staging": "v0.0.1"}
    assert gto_stages(churn) == {"churn": {"staging": "v0.0.1"}}


def test_push_to_a_real_remote(churn: Project, tmp_path: Path) -> None:
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    churn.sh("git", "remote", "add", "origin", str(bare))
    code, data = change_json(churn, "promote", "churn", "--to", "staging", "--push")
    assert code == 0 and data["push"]["ok"] and data["push"]["remote"] == "origin"
    remote_tags = subprocess.run(
        ["git", "tag", "-l"], cwd=bare, capture_output=True, text=True, check=True
    ).stdout.split()
    assert remote_tags == ["churn#staging#1", "churn@v0.0.1"]


# ---------------------------------------------------------------- races
RACE_CONFIG = MODEL_CONFIG.replace(
    "stages: [staging, prod]", "stages: [staging, prod, canary]"
).replace("    prod: [staging]\n", "    {}\n")


def test_two_promotes_racing_in_two_processes(churn: Project) -> None:
    churn.write("mlgit.yaml", RACE_CONFIG)
    churn.commit("three stages, no policy")
    env = {**os.environ}
    cmd = [str(Path(sys.executable).parent / "mlgit")]
    procs = [
        subprocess.Popen(
            [*cmd, "promote", "churn", "--to", stage], cwd=churn.root, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for stage in ("staging", "prod", "canary")
    ]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    state = registry_json(churn, "--history")["models"]["churn"]
    assert state["stages"] == {"canary": "v0.0.1", "prod": "v0.0.1", "staging": "v0.0.1"}
    counters = [e["counter"] for e in state["history"] if e["counter"] is not None]
    assert sorted(counters) == [1, 2, 3]
    assert [t for t in tags(churn) if "@" in t] == ["churn@v0.0.1"]  # registered once
    assert gto_stages(churn) == {"churn": state["stages"]}


RACER = """
import sys
import time
from mlgit.models import registry
from mlgit.repo import git as gitx

repo = gitx.open_repo()
commit = gitx.resolve_rev(repo, "HEAD")
who = sys.argv[1]
for i in range(int(sys.argv[2])):
    registry.write_tags(repo, "churn", lambda state: [
        registry.NewTag(registry.ASSIGN, commit, f"race {who} {i}", {"who": who, "i": i},
                        stage=f"{who}{i}")
    ])
"""


def test_many_racing_writers_never_reuse_a_counter(churn: Project) -> None:
    rounds = 12
    procs = [
        subprocess.Popen([sys.executable, "-c", RACER, who, str(rounds)], cwd=churn.root,
                         stderr=subprocess.PIPE, text=True)
        for who in ("a", "b", "c")
    ]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    names = tags(churn)
    parsed = [registry.parse_tag_name(n) for n in names]
    counters = sorted(p.counter for p in parsed)
    assert counters == list(range(1, 3 * rounds + 1))  # every N once, none lost
    assert {p.stage for p in parsed} == {f"{w}{i}" for w in "abc" for i in range(rounds)}


# ---------------------------------------------------------------- deprecate, unassign, warnings
def test_unassign_and_deprecate_write_gto_forms(churn: Project) -> None:
    churn.mlgit("promote", "churn", "--to", "staging")
    code, data = change_json(churn, "unassign", "churn", "--stage", "staging")
    assert code == 0 and data["tags"] == ["churn#staging!#2"]
    assert gto_stages(churn) == {"churn": {}}
    again = churn.mlgit("unassign", "churn", "--stage", "staging")
    assert again.exit_code == 2 and "staging holds no version" in again.stderr
    code, data = change_json(churn, "deprecate", "churn", "--reason", "replaced")
    assert code == 0 and data["tags"] == ["churn@deprecated#3"]
    assert gto(churn, "show", "--json") == {}  # gto hides deprecated artifacts
    assert registry_json(churn)["models"]["churn"]["deprecated"] is True
    twice = churn.mlgit("deprecate", "churn")
    assert twice.exit_code == 2 and "already deprecated" in twice.stderr


def test_registry_warns_about_malformed_and_lightweight_tags(churn: Project) -> None:
    churn.mlgit("register", "churn")
    churn.sh("git", "tag", "churn#prod#5")  # lightweight: gto ignores it
    churn.sh("git", "tag", "-a", "churn@1.0", "-m", "no v")  # malformed version
    churn.sh("git", "tag", "release-1")  # not registry-looking: no warning
    result = churn.mlgit("registry")
    assert result.exit_code == 0
    assert "tag 'churn#prod#5': lightweight tag" in result.output
    assert "tag 'churn@1.0': looks like a registry tag but does not follow" in result.output
    data = registry_json(churn)
    assert {w["tag"] for w in data["warnings"]} == {"churn#prod#5", "churn@1.0"}
    assert data["models"]["churn"]["stages"] == {}
    # the next N still counts the lightweight tag, as gto does
    code, promoted = change_json(churn, "promote", "churn", "--to", "staging")
    assert code == 0 and promoted["tags"] == ["churn#staging#6"]


# ---------------------------------------------------------------- GTO's semantics, exactly
def test_register_a_given_revision(churn: Project) -> None:
    first = churn.sh("git", "rev-parse", "HEAD").stdout.strip()
    retrain(churn, 0.9)
    code, data = change_json(churn, "register", "churn", "--rev", "HEAD~1", "--version", "v1.0.0")
    assert code == 0 and data["commit"] == first
    assert churn.sh("git", "rev-parse", "churn@v1.0.0^{commit}").stdout.strip() == first
    message = churn.sh("git", "tag", "-l", "--format=%(contents)", "churn@v1.0.0").stdout
    assert json.loads(message.partition("\n\n")[2])["metrics"]["roc_auc"] == 0.85  # from git
    bad = churn.mlgit("register", "churn", "--rev", "no-such-rev")
    assert bad.exit_code == 2 and "revision 'no-such-rev' does not exist" in bad.stderr


def test_stage_held_by_two_versions_is_shown_as_gto_shows_it(churn: Project) -> None:
    """`gto assign` never unassigns: a stage can hold several versions and `gto show` shows
    the one assigned last. mlgit shows the same, and its next write leaves the stage empty
    (unassign) or holding one version."""
    churn.mlgit("register", "churn", "--version", "v1.0.0")
    retrain(churn, 0.86, "model-2")
    churn.mlgit("register", "churn", "--version", "v1.1.0")
    churn.sh(GTO, "assign", "churn", "--version", "v1.1.0", "--stage", "prod")
    time.sleep(1.1)  # GTO orders by tagger time (seconds)
    churn.sh(GTO, "assign", "churn", "--version", "v1.0.0", "--stage", "prod")
    ours = registry_json(churn)["models"]["churn"]
    assert ours["stages"] == {"prod": "v1.0.0"} == gto_stages(churn)["churn"]
    assert gto(churn, "show", "--json", "--sort", "semver")["churn"]["stage"]["prod"] == "v1.1.0"
    code, data = change_json(churn, "unassign", "churn", "--stage", "prod")
    assert code == 0 and data["tags"] == ["churn#prod!#3", "churn#prod!#4"]
    assert gto_stages(churn) == {"churn": {}}
    assert registry_json(churn)["models"]["churn"]["stages"] == {}


def test_deprecation_is_undone_by_a_later_event_as_in_gto(churn: Project) -> None:
    churn.mlgit("promote", "churn", "--to", "staging")
    assigned = churn.sh("git", "rev-parse", "churn#staging#1^{commit}").stdout.strip()
    retrain(churn, 0.86)  # HEAD moves on; GTO deprecates at the latest event's commit
    code, data = change_json(churn, "deprecate", "churn")
    assert code == 0 and data["commit"] == assigned
    assert churn.sh("git", "rev-parse", "churn@deprecated#2^{commit}").stdout.strip() == assigned
    assert gto(churn, "show", "--json") == {}
    assert registry_json(churn)["models"]["churn"]["deprecated"] is True
    code, data = change_json(churn, "promote", "churn", "--to", "staging")
    assert code == 0, data
    assert registry_json(churn)["models"]["churn"]["deprecated"] is False
    assert gto(churn, "show", "--json")["churn"]["active"] is True
    assert gto_stages(churn) == {"churn": {"staging": "v0.0.2"}}


def test_created_tag_is_warned_about_because_gto_cannot_read_it(churn: Project) -> None:
    churn.mlgit("register", "churn")
    churn.sh("git", "tag", "-a", "churn@created#7", "-m", "by hand")
    assert churn.sh(GTO, "show", "--json", check=False).returncode != 0
    data = registry_json(churn)
    assert [w["tag"] for w in data["warnings"]] == ["churn@created#7"]
    assert "gto show` fails" in data["warnings"][0]["problem"]
    assert data["models"]["churn"]["latest"] == "v0.0.1"
    churn.sh("git", "tag", "-d", "churn@created#7")
    churn.sh("git", "tag", "churn@created#7")  # lightweight: gto ignores it but counts its N
    code, data = change_json(churn, "promote", "churn", "--to", "staging")
    assert code == 0 and data["tags"] == ["churn#staging#8"]


def test_two_processes_promoting_two_versions_to_one_stage(churn: Project) -> None:
    """Either order is fine; what must hold: distinct N, one holder, both assignments in the
    history, the holder is the one assigned last, and gto agrees."""
    churn.mlgit("register", "churn")
    retrain(churn, 0.86, "model-2")
    churn.mlgit("register", "churn")
    cmd = str(Path(sys.executable).parent / "mlgit")
    procs = [
        subprocess.Popen(
            [cmd, "promote", "churn", "--to", "staging", "--version", version],
            cwd=churn.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for version in ("v0.0.1", "v0.0.2")
    ]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    state = registry_json(churn, "--history")["models"]["churn"]
    counted = [e for e in state["history"] if e["counter"] is not None]
    assert sorted(e["counter"] for e in counted) == list(range(1, len(counted) + 1))
    assigns = [e for e in counted if e["action"] == "assign"]
    assert sorted(e["version"] for e in assigns) == ["v0.0.1", "v0.0.2"]
    assert state["stages"] == {"staging": assigns[-1]["version"]}
    assert [e["action"] for e in counted] == ["assign", "unassign", "assign"]
    assert gto_stages(churn) == {"churn": state["stages"]}


def test_provenance_of_a_model_made_by_a_dvc_pipeline(project: Project) -> None:
    """Model and metrics are outputs of a `dvc.yaml` stage: hashes come from dvc.lock."""
    project.write("mlgit.yaml", MODEL_CONFIG)
    project.write("data/train.csv", "x,y\n1,0\n2,1\n")
    project.sh("dvc", "add", "-q", "data/train.csv")
    project.write(
        "train.py",
        "import pathlib\n"
        "pathlib.Path('models').mkdir(exist_ok=True)\n"
        "pathlib.Path('models/churn.pkl').write_text('trained')\n"
        "pathlib.Path('metrics.json').write_text('{\"roc_auc\": 0.9}')\n",
    )
    project.write(
        "dvc.yaml",
        "stages:\n  train:\n    cmd: python train.py\n    deps: [data/train.csv, train.py]\n"
        "    outs: [models/churn.pkl]\n    metrics: [{metrics.json: {cache: false}}]\n",
    )
    project.sh("dvc", "repro", "-q")
    project.commit("pipeline")
    unpushed = project.mlgit("register", "churn")
    assert unpushed.exit_code == 2 and "not in the DVC remote yet" in unpushed.stderr
    project.sh("dvc", "push", "-q")
    code, data = change_json(project, "register", "churn")
    assert code == 0, data
    message = project.sh("git", "tag", "-l", "--format=%(contents)", "churn@v0.0.1").stdout
    prov = json.loads(message.partition("\n\n")[2])
    lock = (project.root / "dvc.lock").read_text()
    assert prov["model"]["source"] == "dvc.lock" and prov["model"]["md5"] in lock
    assert prov["datasets"]["train"]["source"] == "data/train.csv.dvc"
    assert prov["metrics"] == {"roc_auc": 0.9}
    (project.root / "models/churn.pkl").write_text("edited")
    retrain_blocked = project.mlgit("promote", "churn", "--to", "staging")
    assert retrain_blocked.exit_code == 2 and "changed since DVC recorded it" in (
        retrain_blocked.stderr
    )


# ---------------------------------------------------------------- found by exploratory testing
def test_rollback_to_goes_back_only_to_a_version_that_held_the_stage(churn: Project) -> None:
    """`rollback --to` skips gates and policy, so it may only go back, never forward."""
    churn.mlgit("promote", "churn", "--to", "staging")
    churn.mlgit("promote", "churn", "--to", "prod")
    retrain(churn, 0.10, "model-bad")
    assert churn.mlgit("register", "churn", "--bump", "major").exit_code == 0
    refused = churn.mlgit("promote", "churn", "--to", "prod", "--version", "v1.0.0")
    assert refused.exit_code == 1
    before = tags(churn)
    result = churn.mlgit("rollback", "churn", "--stage", "prod", "--to", "v1.0.0")
    assert result.exit_code == 2
    assert "churn v1.0.0 never held prod" in result.stderr
    assert "a version that held prod (v0.0.1)" in result.stderr
    assert "`mlgit promote churn --to prod --version v1.0.0` (it checks gates" in result.stderr
    assert tags(churn) == before
    assert gto_stages(churn) == {"churn": {"prod": "v0.0.1", "staging": "v0.0.1"}}


def shallow_clone(source: Project, tmp_path: Path) -> Project:
    """CI's default checkout: `--depth 1`, no tags."""
    target = tmp_path / "ci-checkout"
    url = f"file://{source.root}"
    sh_args = ["git", "clone", "-q", "--depth", "1", "--no-tags", url, str(target)]
    subprocess.run(sh_args, check=True, capture_output=True)
    return Project(root=target, remote=source.remote)


def test_shallow_clone_is_refused_by_every_registry_decision(
    churn: Project, tmp_path: Path
) -> None:
    churn.mlgit("promote", "churn", "--to", "staging")
    churn.mlgit("promote", "churn", "--to", "prod")
    retrain(churn, 0.86)
    ci = shallow_clone(churn, tmp_path)
    assert ci.sh("git", "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    commands = [
        ["gate", "churn"],  # max_drop against prod: with no tags it would pass "no baseline"
        ["gate", "churn", "--baseline", "staging"],
        ["register", "churn"],
        ["promote", "churn", "--to", "staging"],
        ["rollback", "churn", "--stage", "prod"],
        ["deprecate", "churn"],
        ["unassign", "churn", "--stage", "staging"],
    ]
    for args in commands:
        result = ci.mlgit(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.count("\n") == 1, result.stderr
        assert (
            " is a shallow clone: the registry's tags and history are incomplete; run "
            "`git fetch --tags --unshallow` (or check out with fetch-depth: 0)"
        ) in result.stderr
    assert tags(ci) == []
    shown = ci.mlgit("registry")
    assert shown.exit_code == 0 and "is a shallow clone" in shown.output
    ci.sh("git", "fetch", "-q", "--tags", "--unshallow")
    gated = ci.mlgit("gate", "churn", "--format", "json")
    assert gated.exit_code == 0 and json.loads(gated.stdout)["baseline"] == "prod v0.0.1"


def test_push_sends_the_version_tag_the_stage_points_at(churn: Project, tmp_path: Path) -> None:
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    churn.sh("git", "remote", "add", "origin", str(bare))
    churn.sh("git", "push", "-q", "origin", "HEAD:main")
    assert churn.mlgit("register", "churn").exit_code == 0  # local only
    code, data = change_json(churn, "promote", "churn", "--to", "staging", "--push")
    assert code == 0 and data["push"]["ok"], data
    assert data["tags"] == ["churn#staging#1"]
    clone = tmp_path / "fresh"
    subprocess.run(["git", "clone", "-q", str(bare), str(clone)], check=True)
    fresh = Project(root=clone, remote=churn.remote)
    shown = gto(fresh, "show", "--json")
    assert shown["churn"]["version"] == "v0.0.1"
    assert shown["churn"]["stage"] == {"staging": "v0.0.1"}


def test_two_clones_pushing_promotions_never_share_an_n(churn: Project, tmp_path: Path) -> None:
    """Clone B promotes after clone A pushed: B fetches A's tags first, so it writes N=2, and
    its push succeeds instead of being refused for an existing churn#staging#1."""
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    churn.sh("git", "remote", "add", "origin", str(bare))
    churn.sh("git", "push", "-q", "origin", "HEAD:main")
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(bare), str(other)], check=True)
    clone_b = Project(root=other, remote=churn.remote)
    clone_b.sh("dvc", "remote", "add", "--local", "-d", "local", str(churn.remote))
    clone_b.sh("dvc", "pull", "-q")
    code, data = change_json(churn, "promote", "churn", "--to", "staging", "--push")
    assert code == 0 and data["push"]["ok"] and data["tags"][-1] == "churn#staging#1", data
    code, data = change_json(clone_b, "promote", "churn", "--to", "prod", "--push")
    assert code == 0 and data["push"]["ok"], data
    assert data["tags"] == ["churn#prod#2"]  # N counts per artifact, after A's #1
    remote = subprocess.run(
        ["git", "ls-remote", "--tags", str(bare)], capture_output=True, text=True, check=True
    ).stdout
    assert "churn#staging#1" in remote and "churn#prod#2" in remote
    # a clone that tagged on its own without pushing holds a churn#staging#1 of its own:
    # fetching would clobber it, so the push is refused before any tag is written
    third = tmp_path / "third"
    subprocess.run(["git", "clone", "-q", "-b", "main", "--no-tags", str(bare), str(third)])
    clone_c = Project(root=third, remote=churn.remote)
    clone_c.sh("dvc", "remote", "add", "--local", "-d", "local", str(churn.remote))
    clone_c.sh("dvc", "pull", "-q")
    assert clone_c.mlgit("promote", "churn", "--to", "staging").exit_code == 0  # local only
    before = tags(clone_c)
    refused = clone_c.mlgit("promote", "churn", "--to", "prod", "--push")
    assert refused.exit_code == 2
    assert "origin holds tags that differ from yours" in refused.stderr
    assert "would clobber" in refused.stderr and tags(clone_c) == before


def test_rollback_skips_deregistered_versions(churn: Project) -> None:
    churn.mlgit("promote", "churn", "--to", "staging")  # v0.0.1
    retrain(churn, 0.86)
    churn.mlgit("promote", "churn", "--to", "staging")  # v0.0.2
    retrain(churn, 0.87)
    churn.mlgit("promote", "churn", "--to", "staging")  # v0.0.3
    churn.sh(GTO, "deprecate", "churn", "v0.0.2")  # writes churn@v0.0.2!
    assert "churn@v0.0.2!" in tags(churn)
    code, data = change_json(churn, "rollback", "churn", "--stage", "staging")
    assert code == 0 and data["version"] == "v0.0.1" and data["previous"] == "v0.0.3", data
    assert gto_stages(churn) == {"churn": {"staging": "v0.0.1"}}
    assert registry_json(churn)["models"]["churn"]["stages"] == {"staging": "v0.0.1"}
    churn.sh(GTO, "deprecate", "churn", "v0.0.3")
    before = tags(churn)
    none_left = churn.mlgit("rollback", "churn", "--stage", "staging")
    assert none_left.exit_code == 2
    assert (
        "no earlier version of staging is still registered (v0.0.2, v0.0.3 deregistered)"
        in none_left.stderr
    )
    assert tags(churn) == before


def test_deprecated_model_shows_no_stages_as_in_gto(churn: Project) -> None:
    churn.mlgit("promote", "churn", "--to", "staging")
    churn.mlgit("promote", "churn", "--to", "prod")
    assert churn.mlgit("deprecate", "churn").exit_code == 0
    assert gto(churn, "show", "--json") == {}
    ours = registry_json(churn, "--history")["models"]["churn"]
    assert ours["deprecated"] is True and ours["stages"] == {}
    assert all(v["stages"] == [] for v in ours["versions"])
    assert [e["action"] for e in ours["history"]] == ["register", "assign", "assign", "deprecate"]
    shown = gto(churn, "show", "--json", "--deprecated")["churn"]  # what a revival brings back
    assert shown["active"] is False and shown["stage"] == {"prod": "v0.0.1", "staging": "v0.0.1"}


def test_blank_force_reason_is_refused(churn: Project) -> None:
    result = churn.mlgit("promote", "churn", "--to", "prod", "--force", "--reason", "   ")
    assert result.exit_code == 2 and "--force needs --reason" in result.stderr
    assert tags(churn) == []


def test_registry_of_an_unknown_model_is_exit_2_with_a_hint(churn: Project) -> None:
    result = churn.mlgit("registry", "chrn")
    assert result.exit_code == 2
    assert "no model named 'chrn' in mlgit.yaml or in any registry tag; did you mean 'churn'?" in (
        result.stderr
    )
    declared = registry_json(churn, "churn")  # in mlgit.yaml, no tags yet: fine
    assert declared["models"]["churn"]["latest"] is None


def test_registry_stage_columns_follow_mlgit_yaml(churn: Project) -> None:
    churn.mlgit("promote", "churn", "--to", "staging")
    churn.mlgit("promote", "churn", "--to", "prod")
    result = churn.mlgit("registry")
    header = next(line for line in result.output.splitlines() if "latest" in line)
    assert header.index("staging") < header.index("prod")  # stages: [staging, prod]


def test_a_repository_without_commits_says_so(project: Project) -> None:
    fresh = project.root.parent / "fresh"
    fresh.mkdir()
    subprocess.run(["git", "init", "-q", str(fresh)], check=True)
    (fresh / "mlgit.yaml").write_text(
        MODEL_CONFIG.replace("datasets:\n  train:\n    path: data/train.csv\n", "").replace(
            "    dataset: train\n", ""
        )
    )
    result = Project(root=fresh, remote=project.remote).mlgit("register", "churn")
    assert result.exit_code == 2
    assert "has no commits yet; commit your work first" in result.stderr


def test_promoting_a_model_without_gates_says_so(churn: Project) -> None:
    config = churn.root / "mlgit.yaml"
    config.write_text(
        config.read_text()
        .replace("      - {metric: roc_auc, min: 0.80}\n", "")
        .replace("      - {metric: roc_auc, max_drop: 0.02}\n", "")
        .replace("    gates:\n", "")
    )
    churn.commit("no gates")
    result = churn.mlgit("promote", "churn", "--to", "staging")
    assert result.exit_code == 0, result.output
    assert "churn has no gates: promoted without checking any metric" in result.output
