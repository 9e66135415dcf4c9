"""Which jobs the generated `.gitlab-ci.yml` runs, per kind of pipeline, on a repository made
by `mlgit demo`: GitLab's rules (and `workflow:rules`) evaluated by gitlab-ci-local.

Each pipeline is described by the predefined variables GitLab sets for it (None: a variable
GitLab does not set there; gitlab-ci-local would set CI_COMMIT_BRANCH from git otherwise).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ci_runners import copy_repository, demo_repository, gitlab_jobs, gitlab_like
from tests.support import sh

pytestmark = pytest.mark.skipif(
    shutil.which("gitlab-ci-local") is None, reason="npm gitlab-ci-local@4.73.0 missing"
)

CHECK, REGISTER, TRAIN, MONITOR = (
    "mlgit:check",
    "mlgit:register:churn",
    "mlgit:train",
    "mlgit:monitor",
)
DEPLOY_STAGING, DEPLOY_PROD = "mlgit:deploy:staging", "mlgit:deploy:prod"
MR = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_BRANCH": None}
TAG = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": None}

SCENARIOS = {
    "push to the default branch": ({}, [CHECK, REGISTER]),
    "push to a feature branch": ({"CI_COMMIT_BRANCH": "feature"}, []),
    "push to a branch with an open MR": (
        {"CI_COMMIT_BRANCH": "feature", "CI_OPEN_MERGE_REQUESTS": "acme/churn!3"},
        [],
    ),
    "merge request from the same project": (
        {**MR, "CI_MERGE_REQUEST_IID": "3", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "1000",
         "CI_PROJECT_ID": "1000"},
        [CHECK],
    ),
    # the fork's check job runs, without DVC and without a note (decided inside the job)
    "merge request from a fork": (
        {**MR, "CI_MERGE_REQUEST_IID": "4", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "2000",
         "CI_PROJECT_ID": "1000"},
        [CHECK],
    ),
    "CT schedule": ({"CI_PIPELINE_SOURCE": "schedule"}, [TRAIN]),
    "monitor schedule": ({"CI_PIPELINE_SOURCE": "schedule", "MLGIT_RUN": "monitor"}, [MONITOR]),
    "web run without MLGIT_RUN": ({"CI_PIPELINE_SOURCE": "web"}, []),
    "web run: train": ({"CI_PIPELINE_SOURCE": "web", "MLGIT_RUN": "train"}, [TRAIN]),
    "API run: monitor": ({"CI_PIPELINE_SOURCE": "api", "MLGIT_RUN": "monitor"}, [MONITOR]),
    "web run: deploy a tag": (
        {"CI_PIPELINE_SOURCE": "web", "MLGIT_RUN": "deploy", "MLGIT_TAG": "churn#prod#2"},
        [DEPLOY_PROD],
    ),
    # the monitor starts CT through the trigger API with CI_JOB_TOKEN
    "pipeline triggered by the monitor": (
        {"CI_PIPELINE_SOURCE": "pipeline", "MLGIT_RUN": "train"},
        [TRAIN],
    ),
    "stage tag (prod)": ({**TAG, "CI_COMMIT_TAG": "churn#prod#2"}, [DEPLOY_PROD]),
    "stage tag (staging)": ({**TAG, "CI_COMMIT_TAG": "churn#staging#1"}, [DEPLOY_STAGING]),
    "unassign tag": ({**TAG, "CI_COMMIT_TAG": "churn#prod!#3"}, []),
    "version tag": ({**TAG, "CI_COMMIT_TAG": "churn@v0.0.2"}, []),
    "deprecation tag": ({**TAG, "CI_COMMIT_TAG": "churn@deprecated#4"}, []),
}  # fmt: skip


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = copy_repository(demo_repository(tmp_path_factory), tmp_path_factory.mktemp("gl") / "r")
    gitlab_like(repo, "master")
    return repo


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_which_jobs_run(scenario: str, repo: Path, tmp_path: Path) -> None:
    variables, expected = SCENARIOS[scenario]
    assert gitlab_jobs(repo, tmp_path, variables) == sorted(expected)


def test_a_push_of_new_data_to_the_default_branch_also_retrains(repo: Path, tmp_path: Path) -> None:
    """`rules:changes` of the CT job: a push whose commits change a `.dvc` file."""
    pushed = copy_repository(repo, tmp_path / "pushed")
    dvc_file = pushed / "data" / "train.parquet.dvc"
    dvc_file.write_text(dvc_file.read_text(encoding="utf-8") + "# new data\n", encoding="utf-8")
    sh(pushed, "git", "commit", "-q", "-am", "new data")
    before = sh(pushed, "git", "rev-parse", "HEAD^").stdout.strip()
    variables = {"CI_COMMIT_BEFORE_SHA": before}
    assert gitlab_jobs(pushed, tmp_path, variables) == sorted([CHECK, REGISTER, TRAIN])
