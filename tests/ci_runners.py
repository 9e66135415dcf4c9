"""Run generated pipelines on this machine: GitHub workflows with `act`, GitLab rules with
`gitlab-ci-local` (tools and quirks: shared/TOOLING.md, "Running pipelines locally").

- `act` runs a job on the host (`-P ubuntu-latest=-self-hosted`), in a copy of the repository
  with its `.git`, and the host's PATH: `uses:` steps are replaced by tiny local composite
  actions, and the `gh` CLI and the deploy command by recorders that append their argv to
  `calls.jsonl`. `--json` logs give each step's result and each step summary.
- `gitlab-ci-local --list-json` evaluates every job's `rules:` for a pipeline described by
  predefined variables. It ignores `workflow:rules`, so they are evaluated the same way, as the
  rules of an extra job added to a copy of the file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support import IDENTITY, with_blocks

# What the pipelines run with in these tests: the mlgit under test is already on PATH, and the
# deploy command is a recorder.
CI_BLOCK = """\
ci:
  providers: [github, gitlab]
  python: "3.11"
  schedule: "0 3 * * 1"
  monitor_schedule: "0 4 * * *"
  monitor_data: data/production.parquet
  train: dvc repro
  install: mlgit --version
  deploy: record-deploy {model} {version} {stage}
  default_branch: master
"""
PLATFORM = ("-P", "ubuntu-latest=-self-hosted")
USES = re.compile(r"uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40})")
ACT_TIMEOUT = 300
GITHUB_REPOSITORY = "acme/churn"
GITHUB_URL = f"https://github.com/{GITHUB_REPOSITORY}.git"

STUB_NOOP = """\
name: stub {action}
description: mlgit's tests stand in for {action} (act runs on the host, in a copy of the repo)
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "stub {action}"
"""
# upload-artifact keeps what it is given, so a test can read the uploaded file
STUB_UPLOAD = """\
name: stub {action}
description: copies the uploaded path to $MLGIT_TEST_ARTIFACTS/NAME
inputs:
  name: {{default: artifact}}
  path: {{required: true}}
  if-no-files-found: {{default: warn}}
runs:
  using: composite
  steps:
    - shell: bash
      env:
        NAME: ${{{{ inputs.name }}}}
        UPLOAD: ${{{{ inputs.path }}}}
      run: |
        mkdir -p "$MLGIT_TEST_ARTIFACTS/$NAME"
        if [ -e "$UPLOAD" ]; then cp -R "$UPLOAD" "$MLGIT_TEST_ARTIFACTS/$NAME/"; fi
"""

# `gh` as the workflows call it: every call is recorded; the report comment is kept in a state
# file, so the second run finds (and updates) the comment the first one created.
RECORDER_GH = """\
#!{python}
import json, os, sys
record = os.environ["MLGIT_TEST_RECORD"]
args = sys.argv[1:]
with open(os.path.join(record, "calls.jsonl"), "a") as f:
    f.write(json.dumps({{"tool": "gh", "argv": args}}) + "\\n")
state_path = os.path.join(record, "gh-comments.json")
comments = json.load(open(state_path)) if os.path.exists(state_path) else []
if args[:1] == ["api"]:
    method = args[args.index("--method") + 1] if "--method" in args else "GET"
    body = next((a[len("body=@"):] for a in args if a.startswith("body=@")), None)
    if method == "GET" and args[1].endswith("/comments"):
        for comment in comments:
            if "<!-- mlgit-report -->" in comment["body"]:
                print(comment["id"])
    elif method == "POST":
        comments.append({{"id": 100 + len(comments), "body": open(body).read()}})
    elif method == "PATCH":
        target = next(a for a in args if "/issues/comments/" in a)
        number = int(target.rsplit("/", 1)[1])
        for comment in comments:
            if comment["id"] == number:
                comment["body"] = open(body).read()
    json.dump(comments, open(state_path, "w"))
"""
# `dvc` as the workflows call it: the real one runs, then the call is recorded with the number
# of objects in the job's DVC cache afterwards (what it pulled or made)
RECORDER_DVC = """\
#!{python}
import json, os, subprocess, sys
code = subprocess.call([{dvc!r}, *sys.argv[1:]])
objects = sum(len(files) for _, _, files in os.walk(os.path.join(".dvc", "cache")))
with open(os.path.join(os.environ["MLGIT_TEST_RECORD"], "calls.jsonl"), "a") as f:
    call = {{"tool": "dvc", "argv": sys.argv[1:], "exit": code, "cache_objects": objects}}
    f.write(json.dumps(call) + "\\n")
sys.exit(code)
"""
RECORDER_DEPLOY = """\
#!{python}
import json, os, sys
with open(os.path.join(os.environ["MLGIT_TEST_RECORD"], "calls.jsonl"), "a") as f:
    env = {{k: os.environ.get(k) for k in ("MLGIT_MODEL", "MLGIT_VERSION", "MLGIT_STAGE")}}
    f.write(json.dumps({{"tool": "deploy", "argv": sys.argv[1:], "env": env}}) + "\\n")
"""


@dataclass
class ActRun:
    """What one `act` run did: the job results, each step's result, the step summaries."""

    returncode: int
    log: str
    jobs: dict[str, str] = field(default_factory=dict)  # job id -> success | failure
    steps: dict[str, str] = field(default_factory=dict)  # "job/step name" -> result
    summary: str = ""
    workspaces: list[Path] = field(default_factory=list)  # the copies the jobs ran in
    calls: list[dict[str, Any]] = field(default_factory=list)

    def step(self, name: str, job: str | None = None) -> str | None:
        """The result of the step called `name` (in `job`, or in any job): None if it never ran."""
        for key, result in self.steps.items():
            job_id, step = key.split("/", 1)
            if step == name and job in (None, job_id):
                return result
        return None

    def called(self, tool: str) -> list[list[str]]:
        return [c["argv"] for c in self.calls if c["tool"] == tool]


class Act:
    """Runs workflows of one repository with `act`; stubs and recorders live in `scratch`."""

    def __init__(self, repo: Path, scratch: Path, origin: Path | None = None) -> None:
        self.repo = repo
        self.scratch = scratch
        # The jobs' git fetches from and pushes to `origin` (a bare repository) instead of
        # GitHub. Set in a global config of their own: act applies the repository's own
        # `insteadOf` to the URL it reads github.repository from.
        self.gitconfig = scratch / "gitconfig"
        scratch.mkdir(parents=True, exist_ok=True)
        if origin is not None:
            rewrite = f'[url "{origin}"]\n\tinsteadOf = {GITHUB_URL}\n'
            self.gitconfig.write_text(rewrite, encoding="utf-8")
        self.record = scratch / "record"
        self.bin = scratch / "bin"
        self.artifacts = scratch / "artifacts"
        for directory in (self.record, self.bin, self.artifacts):
            directory.mkdir(parents=True, exist_ok=True)
        dvc = shutil.which("dvc")
        assert dvc is not None, "dvc is not on PATH"
        recorders = {"gh": RECORDER_GH, "dvc": RECORDER_DVC, "record-deploy": RECORDER_DEPLOY}
        for name, text in recorders.items():
            path = self.bin / name
            path.write_text(text.format(python=sys.executable, dvc=dvc), encoding="utf-8")
            path.chmod(0o755)
        self.runs = 0

    def stubs(self, workflow: Path) -> list[str]:
        """`--local-repository` arguments for every pinned action the workflow uses."""
        args = []
        for action, sha in sorted(set(USES.findall(workflow.read_text(encoding="utf-8")))):
            stub = self.scratch / "actions" / action.replace("/", "+")
            stub.mkdir(parents=True, exist_ok=True)
            text = STUB_UPLOAD if action == "actions/upload-artifact" else STUB_NOOP
            (stub / "action.yml").write_text(text.format(action=action), encoding="utf-8")
            args += ["--local-repository", f"{action}@{sha}={stub}"]
        return args

    def run(
        self,
        event_name: str,
        workflow: str,
        event: dict[str, Any] | None = None,
        job: str | None = None,
        secrets: dict[str, str] | None = None,
        inputs: dict[str, str] | None = None,
    ) -> ActRun:
        self.runs += 1
        cache = self.scratch / f"act-cache-{self.runs}"
        event_file = self.scratch / f"event-{self.runs}.json"
        event_file.write_text(json.dumps(event or {}), encoding="utf-8")
        path = self.repo / ".github" / "workflows" / workflow
        args = ["act", event_name, "-W", str(path), *PLATFORM, "--no-cache-server"]
        args += ["--action-offline-mode", "--action-cache-path", str(cache), "--json"]
        args += ["-e", str(event_file), *self.stubs(path)]
        # a token given keeps act from asking `gh auth token` for one
        for key, value in {"GITHUB_TOKEN": "test-token", **(secrets or {})}.items():
            args += ["-s", f"{key}={value}"]
        for key, value in (inputs or {}).items():
            args += ["--input", f"{key}={value}"]
        if job:
            args += ["-j", job]
        env = {
            **os.environ,
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "MLGIT_TEST_RECORD": str(self.record),
            "MLGIT_TEST_ARTIFACTS": str(self.artifacts),
            "GIT_CONFIG_GLOBAL": str(self.gitconfig),
        }
        (self.record / "calls.jsonl").unlink(missing_ok=True)
        proc = subprocess.run(
            args,
            cwd=self.repo,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=ACT_TIMEOUT,
            check=False,
        )
        run = parse_act_log(proc.returncode, proc.stdout + proc.stderr)
        run.workspaces = sorted(cache.glob("*/hostexecutor"))
        calls = self.record / "calls.jsonl"
        if calls.exists():
            lines = calls.read_text(encoding="utf-8").splitlines()
            run.calls = [json.loads(line) for line in lines]
        return run


def parse_act_log(returncode: int, output: str) -> ActRun:
    run = ActRun(returncode=returncode, log=output)
    summaries = []
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        job = entry.get("jobID", "")
        if "stepResult" in entry and entry.get("stage") == "Main":
            run.steps[f"{job}/{entry['step']}"] = entry["stepResult"]
        if "jobResult" in entry:
            run.jobs[job] = entry["jobResult"]
        if entry.get("command") == "summary":
            summaries.append(entry.get("content", ""))
    run.summary = "".join(summaries)
    return run


def github_like(repo: Path, bare: Path) -> None:
    """Give `repo` the origin a GitHub checkout has (act reads owner/name from its URL), with
    its branches in the local bare repository `bare` that stands in for it (see `Act`)."""
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git = ["git", "-C", str(repo)]
    subprocess.run([*git, "remote", "remove", "origin"], capture_output=True, check=False)
    subprocess.run([*git, "remote", "add", "origin", GITHUB_URL], check=True)
    subprocess.run([*git, "push", "-q", str(bare), "--all"], check=True, capture_output=True)
    refs = "+refs/heads/*:refs/remotes/origin/*"
    subprocess.run([*git, "fetch", "-q", str(bare), refs], check=True)


def pull_request_event(base: str, head: str, fork: bool = False, number: int = 7) -> dict:
    """The part of a `pull_request` event the generated CI reads."""
    head_repo = "someone/churn" if fork else GITHUB_REPOSITORY
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "base": {"sha": base, "ref": "main", "repo": {"full_name": GITHUB_REPOSITORY}},
            "head": {"sha": head, "ref": "feature", "repo": {"full_name": head_repo}},
        },
        "repository": {"full_name": GITHUB_REPOSITORY},
    }


# ---------------------------------------------------------------- GitLab
WORKFLOW_JOB = "mlgit-test-workflow-rules"


class _GitLabLoader(yaml.SafeLoader):
    """Reads .gitlab-ci.yml, whose `!reference [job, key]` tags stay plain lists here."""


_GitLabLoader.add_constructor(
    "!reference",
    lambda loader, node: loader.construct_sequence(node),  # type: ignore[arg-type]
)


def gitlab_jobs(repo: Path, scratch: Path, variables: dict[str, str | None]) -> list[str]:
    """The jobs a GitLab pipeline runs, given predefined variables (None: unset the variable,
    e.g. CI_COMMIT_BRANCH, which gitlab-ci-local always sets from git). [] when the
    pipeline's `workflow:rules` create no pipeline at all."""
    work = scratch / "gitlab"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(repo, work, symlinks=True, ignore=shutil.ignore_patterns(".dvc"))
    ci_file = work / ".gitlab-ci.yml"
    config = yaml.load(ci_file.read_text(encoding="utf-8"), Loader=_GitLabLoader)
    workflow_rules = (config.get("workflow") or {}).get("rules")
    if workflow_rules:
        stages = config.get("stages") or ["test"]
        job = {"stage": stages[0], "rules": workflow_rules, "script": ["true"]}
        with ci_file.open("a", encoding="utf-8") as f:
            f.write("\n" + yaml.safe_dump({WORKFLOW_JOB: job}, sort_keys=False))
    args = ["gitlab-ci-local", "--list-json", "--json-schema-validation", "false"]
    args += ["--ignore-predefined-vars", ",".join(variables)]
    for key, value in variables.items():
        args += ["--unset-variable", key] if value is None else ["--variable", f"{key}={value}"]
    proc = subprocess.run(
        args, cwd=work, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"gitlab-ci-local failed ({proc.returncode}):\n{proc.stderr}")
    jobs = {job["name"]: job["when"] for job in json.loads(proc.stdout)}
    if workflow_rules and jobs.pop(WORKFLOW_JOB) == "never":
        return []
    return sorted(name for name, when in jobs.items() if when != "never")


def gitlab_like(repo: Path, default_branch: str) -> None:
    """An `origin` with `refs/remotes/origin/HEAD`, which gitlab-ci-local needs (it takes
    CI_DEFAULT_BRANCH from it)."""
    git = ["git", "-C", str(repo)]
    subprocess.run([*git, "remote", "remove", "origin"], capture_output=True, check=False)
    url = "https://gitlab.com/acme/churn.git"
    subprocess.run([*git, "remote", "add", "origin", url], check=True)
    ref = f"refs/remotes/origin/{default_branch}"
    subprocess.run([*git, "update-ref", ref, f"refs/heads/{default_branch}"], check=True)
    subprocess.run([*git, "symbolic-ref", "refs/remotes/origin/HEAD", ref], check=True)


# ---------------------------------------------------------------- the demo repository
_demo: Path | None = None


def demo_repository(factory: Any) -> Path:
    """`mlgit demo DIR`, then its pipelines generated for CI_BLOCK and committed; built once
    per test session (about half a minute) and copied by each test (`copy_repository`)."""
    global _demo
    if _demo is None:
        _demo = _build_demo(factory.mktemp("demo") / "churn", factory.mktemp("demo-home"))
    return _demo


def _build_demo(root: Path, home: Path) -> Path:
    env = {
        **os.environ,
        **IDENTITY,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }

    def run(*args: str) -> None:
        proc = subprocess.run(args, cwd=root.parent, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")

    run(sys.executable, "-m", "mlgit", "demo", str(root))
    config = root / "mlgit.yaml"
    config.write_text(with_blocks(config.read_text(encoding="utf-8"), CI_BLOCK), encoding="utf-8")
    git = ("git", "-C", str(root))
    with (root / ".git" / "info" / "exclude").open("a", encoding="utf-8") as f:
        f.write("/plots/\n")  # the demo's drift plots: not part of the project
    run(*git, "checkout", "-q", "-B", "master")
    subprocess.run(  # from `root`: mlgit finds the project from its working directory
        [sys.executable, "-m", "mlgit", "ci", "generate", "--force"],
        cwd=root, env=env, check=True, capture_output=True,
    )  # fmt: skip
    run(*git, "add", "-A")
    run(*git, "commit", "-q", "-m", "Pipelines for the tests (mlgit ci generate)")
    return root


def copy_repository(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target
