"""Git through GitPython: the repository root, revisions, files at a revision, tags.

Every function raises MlgitError with a fix for the user; callers never see GitPython errors.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import git


def _git_module():  # the git module, imported late so `mlgit --help` stays fast
    if shutil.which("git") is None:
        raise MlgitError(
            "git was not found on PATH; install git (e.g. `apt-get install git`) and try again"
        )
    import git

    return git


def find_root(start: Path | None = None) -> Path | None:
    """The top of the git work tree containing `start`, or None outside any repository."""
    path = (start or Path.cwd()).resolve()
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def open_repo(start: Path | None = None) -> git.Repo:
    git = _git_module()
    root = find_root(start)
    if root is None:
        where = start or Path.cwd()
        raise MlgitError(f"{where} is not inside a git repository; run `mlgit init` first")
    return git.Repo(root)


def init(path: Path) -> git.Repo:
    git = _git_module()
    return git.Repo.init(path)


def head_commit(repo: git.Repo) -> str | None:
    """The commit HEAD points to, or None in a repository without commits."""
    try:
        return repo.head.commit.hexsha
    except ValueError:
        return None


def resolve_rev(repo: git.Repo, rev: str) -> str:
    """The full commit SHA of a revision (branch, tag, SHA, HEAD~1, ...)."""
    git = _git_module()
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"{rev}^{{commit}}")
    except git.GitCommandError:
        if not repo.head.is_valid():  # a repository with no commit yet: nothing to name
            raise MlgitError(
                f"{repo.working_dir} has no commits yet; commit your work first "
                "(`git add -A && git commit -m ...`)"
            ) from None
        raise MlgitError(
            f"revision {rev!r} does not exist in {repo.working_dir}; "
            "check the name with `git log --oneline` or `git tag`"
        ) from None


def commit_or_none(repo: git.Repo, rev: str) -> str | None:
    """The full commit SHA of a revision, or None when it names no commit."""
    git = _git_module()
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"{rev}^{{commit}}") or None
    except git.GitCommandError:
        return None


def is_shallow(repo: git.Repo | Path) -> bool:
    """True in a shallow clone (CI's default `--depth 1` checkout): history and tags are cut."""
    root = repo if isinstance(repo, Path) else Path(repo.working_dir)
    if shutil.which("git") is None:
        _git_module()  # raises the "install git" error
    proc = subprocess.run(
        ["git", "rev-parse", "--is-shallow-repository"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() == "true"


def shallow_message(repo: git.Repo | Path) -> str:
    root = repo if isinstance(repo, Path) else Path(repo.working_dir)
    return (
        f"{root} is a shallow clone: the registry's tags and history are incomplete; run "
        "`git fetch --tags --unshallow` (or check out with fetch-depth: 0)"
    )


def require_full_history(repo: git.Repo | Path) -> None:
    """Refuse to decide anything from the registry of a shallow clone: its tags are missing,
    so a stage looks empty and counters restart (duplicate N)."""
    if is_shallow(repo):
        raise MlgitError(shallow_message(repo))


def is_dirty(repo: git.Repo, path: str | None = None) -> bool:
    """True when tracked files differ from HEAD (untracked files do not count)."""
    # One path: GitPython passes `path` to os.fspath, so a list of paths would raise TypeError.
    return repo.is_dirty(index=True, working_tree=True, untracked_files=False, path=path)


def work_tree(repo: git.Repo | Path) -> Path:
    """The top of the work tree of `repo` (a path is taken as that top already)."""
    return repo if isinstance(repo, Path) else Path(repo.working_dir)


def changed_paths(repo: git.Repo) -> list[str]:
    """Tracked paths whose work tree or index differs from HEAD, sorted (for messages)."""
    unstaged = {d.a_path for d in repo.index.diff(None)}
    # A raw diff fills a_path for added and deleted files too; None is only in GitPython's types.
    return sorted(p for p in unstaged | {d.a_path for d in repo.index.diff("HEAD")} if p)


def read_file_at(repo: git.Repo, rev: str, path: str) -> bytes | None:
    """The bytes of `path` (relative to the repo root) at `rev`, or None where it does not exist."""
    git = _git_module()
    commit = resolve_rev(repo, rev)
    try:
        blob = repo.commit(commit).tree / Path(path).as_posix()
    except KeyError:
        return None
    except git.BadName:  # pragma: no cover - resolve_rev has checked it
        return None
    return blob.data_stream.read()


def is_tracked(repo: git.Repo, path: Path) -> bool:
    rel = relative_to_root(repo, path)
    return bool(repo.git.ls_files("--", rel.as_posix()))


def stage(repo: git.Repo, paths: list[Path]) -> None:
    rels = [relative_to_root(repo, p).as_posix() for p in paths]
    repo.git.add("--", *rels)


def relative_to_root(repo: git.Repo, path: Path) -> Path:
    root = Path(repo.working_dir).resolve()
    absolute = (path if path.is_absolute() else Path.cwd() / path).resolve()
    try:
        return absolute.relative_to(root)
    except ValueError:
        raise MlgitError(
            f"{path} is outside the repository {root}; move it inside the repository first"
        ) from None


def merge_base(repo: git.Repo, a: str, b: str = "HEAD") -> str:
    git = _git_module()
    try:
        return repo.git.merge_base(resolve_rev(repo, a), resolve_rev(repo, b))
    except git.GitCommandError:
        raise MlgitError(f"{a!r} and {b!r} have no common ancestor; pass a base revision") from None


def default_branch(repo: git.Repo) -> str:
    """origin's HEAD branch when known, else main or master, whichever exists."""
    git = _git_module()
    try:
        ref = repo.git.symbolic_ref("--quiet", "refs/remotes/origin/HEAD")
        return ref.removeprefix("refs/remotes/origin/")
    except git.GitCommandError:
        pass
    names = {h.name for h in repo.heads}
    for name in ("main", "master"):
        if name in names:
            return name
    raise MlgitError(
        f"cannot tell the default branch of {repo.working_dir}; pass the base revision explicitly"
    )


class Tag(NamedTuple):  # a NamedTuple: one per tag, 10,000s per `mlgit registry`
    name: str
    commit: str
    annotated: bool
    message: str  # "" for lightweight tags, and when not asked for
    tagger: str
    created: str  # ISO 8601 from git, "" for lightweight tags
    timestamp: int  # the tagger time (unix seconds), 0 for lightweight tags


_TAG_FIELDS = [
    "%(refname:strip=2)",
    "%(objecttype)",
    "%(*objectname)",
    "%(objectname)",
    "%(taggerdate:iso-strict)",
    "%(taggerdate:unix)",
]
_MESSAGE_FIELDS = ["%(taggername) %(taggeremail)", "%(contents)"]


def list_tags(
    repo: git.Repo | Path, pattern: str | None = None, messages: bool = True
) -> list[Tag]:
    """All tags (or those matching a fnmatch `pattern`) in one `git for-each-ref` pass.

    `repo` may be a work tree path: reading tags needs no GitPython (`mlgit registry` starts
    faster without importing it). `messages=False` leaves messages and taggers out."""
    root = repo if isinstance(repo, Path) else Path(repo.working_dir)
    fields = _TAG_FIELDS + (_MESSAGE_FIELDS if messages else [])
    refs = f"refs/tags/{pattern}" if pattern else "refs/tags"
    if shutil.which("git") is None:
        _git_module()  # raises the "install git" error
    proc = subprocess.run(
        ["git", "for-each-ref", "--format", "%00".join(fields) + "%00%00", refs],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip()
        raise MlgitError(f"git could not list the tags of {root}: {reason}")
    out = proc.stdout.decode("utf-8", "replace")
    tags = []
    for record in out.split("\x00\x00\n"):
        if not record.strip("\n"):
            continue
        name, objtype, peeled, obj, date, unix, *rest = record.split("\x00", 7)
        annotated = objtype == "tag"
        tagger, message = rest if annotated and rest else ("", "")
        tags.append(
            Tag(
                name=name,
                commit=peeled if annotated else obj,
                annotated=annotated,
                message=message,
                tagger=tagger.strip(),
                created=date,
                timestamp=int(unix) if unix else 0,
            )
        )
    return tags


def create_tag(repo: git.Repo, name: str, rev: str, message: str) -> bool:
    """Create annotated tag `name` at `rev`; False when it already exists (atomic in git)."""
    git = _git_module()
    require_identity(repo)
    try:
        repo.git.tag("-a", name, "-m", message, resolve_rev(repo, rev))
    except git.GitCommandError as exc:
        if "already exists" in str(exc):
            return False
        raise MlgitError(f"git could not create tag {name!r}: {exc.stderr.strip()}") from None
    return True


def require_identity(repo: git.Repo) -> None:
    """Annotated tags and commits need a name and email; say how to set them."""
    env_ok = os.environ.get("GIT_COMMITTER_NAME") and os.environ.get("GIT_COMMITTER_EMAIL")
    if env_ok:
        return
    reader = repo.config_reader()
    if reader.get_value("user", "name", "") and reader.get_value("user", "email", ""):
        return
    raise MlgitError(
        "git has no identity to sign tags with; run `git config user.name 'Your Name'` and "
        "`git config user.email you@example.com` (or set GIT_COMMITTER_NAME/GIT_COMMITTER_EMAIL)"
    )


# ---------------------------------------------------------------- registry writes
ZERO_OID = "0" * 40


def committer_ident(repo: git.Repo) -> tuple[str, str, int, str]:
    """(name, email, unix time, tz offset) git would sign a tag with now."""
    require_identity(repo)
    git = _git_module()
    try:
        line = repo.git.var("GIT_COMMITTER_IDENT")
    except git.GitCommandError:  # pragma: no cover - require_identity has checked it
        raise MlgitError("git has no identity; run `git config user.name` / `user.email`") from None
    person, _, rest = line.rpartition(">")
    name, _, email = person.partition("<")
    stamp, _, tz = rest.strip().partition(" ")
    return name.strip(), email.strip(), int(stamp), tz or "+0000"


def read_ref(repo: git.Repo, ref: str) -> str | None:
    """The object a ref points to, or None when it does not exist."""
    git = _git_module()
    try:
        return repo.git.rev_parse("--verify", "--quiet", ref) or None
    except git.GitCommandError:
        return None


def make_tag_object(repo: git.Repo, name: str, commit: str, tagger: str, message: str) -> str:
    """Write an annotated tag object (no ref yet) and return its id; `tagger` is
    `Name <email> unixtime tz`."""
    body = f"object {commit}\ntype commit\ntag {name}\ntagger {tagger}\n\n{message.rstrip()}\n"
    proc = _git_with_input(repo, ["mktag"], body)
    if proc.returncode != 0:
        raise MlgitError(f"git could not write tag {name!r}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def _git_with_input(repo: git.Repo, args: list[str], text: str) -> subprocess.CompletedProcess:
    """git with `text` on stdin (GitPython needs a real file handle for that)."""
    _git_module()
    return subprocess.run(
        ["git", *args],
        cwd=repo.working_dir,
        input=text,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )


def create_refs_atomically(
    repo: git.Repo, creates: list[tuple[str, str]], guard: tuple[str, str, str | None]
) -> bool:
    """Create every ref in `creates` and move `guard` (ref, new, expected old) in ONE git
    transaction. False, with nothing changed, when a ref already exists or `guard` moved."""
    guard_ref, guard_new, guard_old = guard
    lines = ["start"]
    lines += [f"create {ref} {oid}" for ref, oid in creates]
    lines.append(f"update {guard_ref} {guard_new} {guard_old or ZERO_OID}")
    lines += ["prepare", "commit", ""]
    proc = _git_with_input(repo, ["update-ref", "--stdin"], "\n".join(lines))
    if proc.returncode == 0:
        return True
    if any(s in proc.stderr for s in ("already exists", "cannot lock ref", "but expected")):
        return False
    raise MlgitError(f"git could not create {creates[0][0]}: {proc.stderr.strip()}")


def fetch_tags(repo: git.Repo, remote: str) -> None:
    """`git fetch REMOTE` of every tag, before a change that will be pushed there: the next N
    is then chosen after what other clones already pushed. A tag both sides hold on different
    objects is a conflict to settle by hand: then nothing is fetched (a dry run asks first)."""
    git = _git_module()
    for dry_run in (True, False):
        try:
            args = ["--dry-run"] if dry_run else []
            # not --quiet: it hides the "rejected" lines
            repo.git.fetch(*args, remote, "refs/tags/*:refs/tags/*")
        except git.GitCommandError as exc:
            lines = [" ".join(ln.split()) for ln in str(exc.stderr).splitlines() if ln.strip()]
            clobber = [ln for ln in lines if "would clobber" in ln]
            if clobber:
                raise MlgitError(
                    f"{remote} holds tags that differ from yours ({clobber[0]}); the registry "
                    f"changed in two clones: compare `git ls-remote --tags {remote}` with "
                    "`git tag -l`, delete the local tag that lost, then run the command again"
                ) from None
            reason = next(
                (ln for ln in lines if "fatal" in ln or "error" in ln),
                lines[-1] if lines else f"git exited with {exc.status}",
            )
            raise MlgitError(
                f"cannot fetch the registry's tags from {remote!r} before pushing ({reason}); "
                "check the remote, or run without --push"
            ) from None


def push_refs(repo: git.Repo, remote: str, refs: list[str]) -> str | None:
    """`git push REMOTE REFS...`; None on success, else git's reason in one line."""
    git = _git_module()
    try:
        repo.git.push(remote, *refs)
    except git.GitCommandError as exc:
        lines = [ln.strip() for ln in str(exc.stderr).splitlines() if ln.strip()]
        return next(
            (ln for ln in lines if "fatal" in ln or "error" in ln), lines[-1] if lines else ""
        )
    return None


class Blob(NamedTuple):
    path: str  # relative to the root, as first seen in the history walked
    size: int


def history_blobs(root: Path, max_commits: int) -> tuple[int, list[Blob]]:
    """(commits walked, the files of their trees): one `git rev-list --objects` over the last
    `max_commits` commits of HEAD, sized by one `git cat-file --batch-check` (no blob is read).
    A repository without commits has (0, [])."""
    if shutil.which("git") is None:
        _git_module()  # raises the "install git" error
    listed = subprocess.run(
        ["git", "rev-list", "--objects", f"--max-count={max_commits}", "HEAD", "--"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        if subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "HEAD"], cwd=root, capture_output=True
        ).returncode:
            return 0, []  # no commit yet
        reason = listed.stderr.decode("utf-8", "replace").strip()
        raise MlgitError(f"git could not list the history of {root}: {reason}")
    sized = subprocess.run(
        ["git", "cat-file", "--batch-check=%(objecttype) %(objectsize) %(rest)"],
        cwd=root,
        input=listed.stdout,
        capture_output=True,
        check=False,
    )
    if sized.returncode != 0:
        reason = sized.stderr.decode("utf-8", "replace").strip()
        raise MlgitError(f"git could not size the objects of {root}: {reason}")
    commits, blobs = 0, []
    for line in sized.stdout.decode("utf-8", "replace").splitlines():
        kind, size, path = [*line.split(" ", 2), "", ""][:3]
        if kind == "commit":
            commits += 1
        elif kind == "blob" and size.isdigit():
            blobs.append(Blob(path, int(size)))
    return commits, blobs


def git_path(root: Path, name: str) -> Path:
    """Where git keeps `name` (e.g. hooks/pre-commit) for the work tree at `root`: honours
    worktrees and core.hooksPath."""
    if shutil.which("git") is None:
        _git_module()
    proc = subprocess.run(
        ["git", "rev-parse", "--git-path", name], cwd=root, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise MlgitError(f"{root} is not inside a git repository; run `mlgit init` first")
    path = Path(proc.stdout.strip())
    return path if path.is_absolute() else root / path


def list_files(root: Path, pathspecs: list[str]) -> list[str]:
    """Files matching `pathspecs` (git's glob: `*` crosses `/`), tracked or untracked but not
    ignored, relative to `root` (POSIX); [] when `root` is not a git work tree."""
    if shutil.which("git") is None:
        _git_module()  # raises the "install git" error
    proc = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *pathspecs],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        return []
    names = proc.stdout.decode("utf-8", "replace").split("\x00")
    return sorted({name for name in names if name})


# ---------------------------------------------------------------- worktrees and notes
def add_worktree(repo: git.Repo | Path, path: Path, commit: str) -> None:
    """A detached work tree of `commit` at `path` (the user's own work tree is not touched)."""
    proc = _git_in(repo, ["worktree", "add", "--detach", "--quiet", str(path), commit])
    if proc.returncode != 0:
        raise MlgitError(
            f"git could not check out {commit[:12]} in a temporary work tree at {path}: "
            f"{proc.stderr.strip()}; check the disk space and `git worktree list`"
        )


def remove_worktree(repo: git.Repo | Path, path: Path) -> None:
    """Remove a work tree made by `add_worktree`, with whatever was built in it."""
    _git_in(repo, ["worktree", "remove", "--force", "--force", str(path)])
    shutil.rmtree(path, ignore_errors=True)
    _git_in(repo, ["worktree", "prune"])


def add_note(repo: git.Repo | Path, ref: str, commit: str, text: str) -> None:
    """Set the note of `commit` under refs/notes/`ref` (replacing it): tags stay untouched."""
    if isinstance(repo, Path):
        repo = open_repo(repo)
    require_identity(repo)
    proc = _git_with_input(repo, ["notes", f"--ref={ref}", "add", "-f", "-F", "-", commit], text)
    if proc.returncode != 0:
        raise MlgitError(
            f"git could not write the note of {commit[:12]} in refs/notes/{ref}: "
            f"{proc.stderr.strip()}"
        )


def show_note(repo: git.Repo | Path, ref: str, commit: str) -> str | None:
    """The note of `commit` under refs/notes/`ref`, or None when it has none."""
    proc = _git_in(repo, ["notes", f"--ref={ref}", "show", commit])
    return proc.stdout if proc.returncode == 0 else None


def object_type(repo: git.Repo | Path, sha: str) -> str | None:
    """`commit`, `tree`, `blob` or `tag` for the object `sha`, or None when there is none."""
    proc = _git_in(repo, ["cat-file", "-t", "--", sha])
    return proc.stdout.strip() if proc.returncode == 0 else None


def noted_commits(repo: git.Repo | Path, ref: str) -> set[str]:
    """The commits that have a note under refs/notes/`ref` (one `git notes list`)."""
    proc = _git_in(repo, ["notes", f"--ref={ref}", "list"])
    if proc.returncode != 0:
        return set()
    return {line.split()[1] for line in proc.stdout.splitlines() if len(line.split()) == 2}


def _git_in(repo: git.Repo | Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    root = work_tree(repo)
    if shutil.which("git") is None:
        _git_module()  # raises the "install git" error
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, encoding="utf-8", check=False
    )
