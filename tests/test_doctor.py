"""`mlgit doctor`: the maturity scorecard of a fresh project, of the demo repository, and of the
demo repository as the user follows the fixes it prints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import Project, json_output, run_cli, sh

SCHEMA = "doctor-result.schema.json"


def doctor(root: Path, *args: str) -> tuple[int, dict]:
    result = run_cli(root, "doctor", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json_output(result.output, SCHEMA)


def items(card: dict) -> dict[str, dict]:
    return {item["id"]: item for item in card["items"]}


def statuses(card: dict) -> dict[str, str]:
    return {item["id"]: item["status"] for item in card["items"]}


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mlgit demo DIR` once per module (about ten seconds); tests work on copies."""
    root = tmp_path_factory.mktemp("doctor-demo") / "churn"
    proc = subprocess.run(
        [sys.executable, "-m", "mlgit", "demo", str(root)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DVC_NO_ANALYTICS": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Path:
    # the copy keeps the demo's DVC remote (an absolute path beside the template)
    root = tmp_path / "churn"
    shutil.copytree(demo_template, root, symlinks=True)
    return root


# ---------------------------------------------------------------- a fresh project
def test_a_fresh_project_is_level_0_with_the_fix_for_every_item(tmp_path: Path) -> None:
    sh(tmp_path, "git", "init", "-q", "-b", "main")
    assert run_cli(tmp_path, "init").exit_code == 0
    code, card = doctor(tmp_path)
    assert code == 0  # no --min-level: a scorecard, not a gate
    assert card["level"] == 0 and card["min_level"] is None and card["ok"] is True
    assert card["history"] == {"commits_asked": 50, "commits_walked": 0}
    got = items(card)
    assert statuses(card) == {
        "data.tracked": "fail",
        "data.history": "n/a",  # no commit yet
        "dvc.remote": "fail",
        "dvc.pushed": "n/a",  # no remote to push to
        "schemas": "n/a",
        "gates.thresholds": "fail",
        "gates.deployed": "fail",
        "gates.fairness": "fail",
        "gates.baseline": got["gates.baseline"]["status"],  # n/a until mlgit has min_lift
        "registry": "fail",
        "ct.schedule": "fail",
        "ct.new_data": "fail",
        "ct.on_demand": "fail",
        "ct.monitor": "fail",
        "pipelines": "fail",
        "monitor": "fail",
        "hooks": "fail",
        "profiles": "n/a",
    }
    assert got["data.tracked"]["fix"] == "mlgit track data/FILE"
    assert got["dvc.remote"]["fix"] == "dvc remote add -d storage URL"
    assert got["registry"]["fix"] == "mlgit register MODEL"
    assert got["ct.schedule"]["fix"] == "mlgit ci generate"
    assert got["pipelines"]["fix"] == "mlgit ci generate"
    assert got["hooks"]["fix"] == "pre-commit install"  # init wrote the hooks' config
    assert "models.NAME.gates" in got["gates.thresholds"]["fix"]
    assert "monitor:" in got["monitor"]["fix"]
    for item in card["items"]:
        assert (item["fix"] is None) == (item["status"] != "fail"), item
        assert item["why"]


def test_min_level_exit_codes(tmp_path: Path) -> None:
    sh(tmp_path, "git", "init", "-q", "-b", "main")
    assert run_cli(tmp_path, "init").exit_code == 0
    assert run_cli(tmp_path, "doctor", "--min-level", "0").exit_code == 0
    result = run_cli(tmp_path, "doctor", "--min-level", "1")
    assert result.exit_code == 1
    assert "maturity level 0 of 2" in result.output and "required: level 1" in result.output
    code, card = doctor(tmp_path, "--min-level", "2")
    assert code == 1 and card["ok"] is False and card["min_level"] == 2


# ---------------------------------------------------------------- the demo repository
def test_the_demo_scores_its_level_and_items(demo: Path) -> None:
    code, card = doctor(demo)
    assert code == 0
    got = items(card)
    # the demo commits its production sample to git: the one level-1 item that fails
    assert got["data.history"]["status"] == "fail"
    assert "data/production.parquet (a .parquet file)" in got["data.history"]["why"]
    assert got["data.history"]["fix"] == (
        "git rm --cached -q -- data/production.parquet && mlgit track data/production.parquet"
    )
    level_1 = {i["id"]: i["status"] for i in card["items"] if i["level"] == 1}
    assert {k: v for k, v in level_1.items() if v == "fail"} == {"data.history": "fail"}
    assert card["level"] == 0
    # level 2: pipelines in sync, monitor and profiles there; no monitor schedule, no hooks
    level_2 = {i["id"]: i["status"] for i in card["items"] if i["level"] == 2}
    assert level_2 == {
        "ct.monitor": "fail",
        "pipelines": "pass",
        "monitor": "pass",
        "hooks": "fail",
        "profiles": "pass",
    }
    assert got["hooks"]["fix"] == "pre-commit install"
    assert "ci.monitor_schedule" in got["ct.monitor"]["fix"]
    assert "registry tags for churn" in got["registry"]["why"]


def test_following_the_fixes_takes_the_demo_to_level_2(demo: Path) -> None:
    project = Project(root=demo, remote=demo.parent / "unused")
    # data.history: the sample leaves git for DVC; --history 1 looks at the new commit only
    project.sh("git", "rm", "--cached", "-q", "--", "data/production.parquet")
    project.sh("dvc", "add", "-q", "data/production.parquet")
    project.sh("dvc", "push", "-q")
    project.commit("production sample tracked by DVC")
    code, card = doctor(demo, "--history", "1", "--min-level", "1")
    assert code == 0 and card["level"] == 1, card
    assert card["history"]["commits_walked"] == 1
    # a changed mlgit.yaml leaves the generated pipelines stale until they are generated
    project.configure('ci:\n  providers: [github, gitlab]\n  python: "3.11"\n'
                      '  schedule: "0 3 * * 1"\n  monitor_schedule: "0 4 * * *"\n'
                      "  train: dvc repro\n")  # fmt: skip
    got = items(doctor(demo, "--history", "1")[1])
    assert got["pipelines"]["status"] == "fail" and "stale" in got["pipelines"]["why"]
    assert got["pipelines"]["fix"] == "mlgit ci generate"
    assert run_cli(demo, "ci", "generate").exit_code == 0
    hook = Path(project.sh("git", "rev-parse", "--git-path", "hooks/pre-commit").stdout.strip())
    (demo / hook).write_text("#!/bin/sh\n# installed by pre-commit\n")  # `pre-commit install`
    code, card = doctor(demo, "--history", "1", "--min-level", "2")
    assert code == 0 and card["level"] == 2, [i for i in card["items"] if i["status"] == "fail"]


def test_not_pushed_and_not_pulled_are_told_apart(demo: Path) -> None:
    shutil.rmtree(demo / ".dvc" / "cache")  # as a fresh clone: everything in the remote only
    got = items(doctor(demo)[1])["dvc.pushed"]
    assert got["status"] == "pass"
    assert "in the remote only (not pulled)" in got["why"] and "data/train.parquet" in got["why"]
    (demo / "extra.bin").write_bytes(b"new data")
    sh(demo, "dvc", "add", "-q", "extra.bin")
    got = items(doctor(demo)[1])["dvc.pushed"]
    assert got["status"] == "fail" and got["fix"] == "dvc push"
    assert "not pushed (in the local cache only): extra.bin" in got["why"]
    sh(demo, "dvc", "push", "-q")
    assert items(doctor(demo)[1])["dvc.pushed"]["status"] == "pass"


def test_a_large_file_in_recent_history_fails_until_it_is_older(project: Project) -> None:
    project.write("big.bin", "x" * (6 * 1024 * 1024))
    project.commit("a big file")
    got = items(doctor(project.root)[1])["data.history"]
    assert got["status"] == "fail" and "big.bin (6.0 MB)" in got["why"]
    project.sh("git", "rm", "-q", "big.bin")
    project.commit("remove it")
    assert items(doctor(project.root, "--history", "1")[1])["data.history"]["status"] == "pass"
    assert items(doctor(project.root, "--history", "2")[1])["data.history"]["status"] == "fail"


def test_a_dataset_without_dvc_schema_or_profile_gets_its_fixes(project: Project) -> None:
    project.write("data/raw.csv", "a,b\n1,2\n")
    project.configure("datasets:\n  raw:\n    path: data/raw.csv\n")
    got = items(doctor(project.root)[1])
    assert got["data.tracked"]["status"] == "fail"
    assert got["data.tracked"]["fix"] == "mlgit track data/raw.csv --name raw"
    assert got["schemas"]["fix"] == "mlgit track data/raw.csv --name raw"
    assert got["profiles"]["fix"].startswith("mlgit profile raw -o profiles/raw.json")
    assert run_cli(project.root, "track", "data/raw.csv", "--name", "raw").exit_code == 0
    got = items(doctor(project.root)[1])
    assert got["data.tracked"]["status"] == "pass" and got["schemas"]["status"] == "pass"


# ---------------------------------------------------------------- formats and bad input
def test_text_markdown_and_output_file(demo: Path) -> None:
    text = run_cli(demo, "doctor")
    assert text.exit_code == 0 and "maturity level 0 of 2" in text.output
    assert "pre-commit install" in text.output
    md = run_cli(demo, "doctor", "--format", "markdown")
    assert md.output.startswith("### ") and "| level | item | status | why | fix |" in md.output
    out = demo.parent / "doctor.json"
    assert run_cli(demo, "doctor", "--format", "json", "-o", str(out)).exit_code == 0
    assert json_output(out.read_text(), SCHEMA)["level"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--history", "0"), "0 is not in the range x>=1"),
        (("--history", "many"), "'many' is not a valid integer"),
        (("--min-level", "3"), "3 is not in the range 0<=x<=2"),
        (("--format", "junit"), "'junit' is not one of"),
    ],
)
def test_bad_options_exit_2(project: Project, args: tuple[str, ...], message: str) -> None:
    result = run_cli(project.root, "doctor", *args)
    assert result.exit_code == 2 and message in result.output


def test_outside_a_project_and_a_broken_config_exit_2(tmp_path: Path, project: Project) -> None:
    result = run_cli(tmp_path, "doctor")
    assert result.exit_code == 2 and "run `mlgit init`" in result.output
    project.write("mlgit.yaml", "version: 1\ndatasets: [oops]\n")
    result = run_cli(project.root, "doctor")
    assert result.exit_code == 2 and "mlgit.yaml" in result.output


def test_json_is_stable_for_tools(demo: Path) -> None:
    first = run_cli(demo, "doctor", "--format", "json").output
    assert json.loads(first) == json.loads(run_cli(demo, "doctor", "--format", "json").output)
