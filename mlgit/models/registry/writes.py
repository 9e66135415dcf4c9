"""Registry writes: every tag of one operation (register + unassign + assign) is created in a
single `git update-ref --stdin` transaction, guarded by compare-and-swap on
`refs/mlgit/registry/<artifact>`; a racing writer makes the transaction fail as a whole and it
is retried with fresh counters, so two writers never make two tags for one N. Tag times of one
artifact are made strictly increasing per operation (ahead of the clock only in a burst of
operations). Every tag message is a summary line, a blank line, and the provenance as JSON
(commit, metrics, dataset and model md5s, gates, author, reason, mlgit).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlgit.errors import MlgitError
from mlgit.models.registry.state import ArtifactState, read_state
from mlgit.models.registry.tags import REGISTER, TagName, format_tag

if TYPE_CHECKING:
    import git

GUARD_PREFIX = "refs/mlgit/registry/"
MAX_ATTEMPTS = 60


@dataclass(frozen=True)
class NewTag:
    action: str
    commit: str
    summary: str
    provenance: dict
    version: str | None = None
    stage: str | None = None


def guard_ref(artifact: str) -> str:
    return GUARD_PREFIX + artifact.replace(":", "=").replace("/", "%2F")


def write_tags(
    repo: git.Repo, artifact: str, plan: Callable[[ArtifactState], list[NewTag]]
) -> tuple[list[str], ArtifactState]:
    """Create the tags `plan` asks for, all or none, with fresh counters; retried when another
    writer got there first. Returns the tag names and the state they were planned on."""
    from mlgit import __version__
    from mlgit.repo.git import committer_ident, create_refs_atomically, make_tag_object, read_ref

    for _ in range(MAX_ATTEMPTS):
        old = read_ref(repo, guard_ref(artifact))  # read BEFORE the tags: CAS below
        state = read_state(repo).artifact(artifact)
        wanted = plan(state)
        name, email, now, tz = committer_ident(repo)
        # one second per operation, later than any tag of the artifact: GTO orders by time,
        # and it indexes registrations before assignments, so the tags of one operation
        # (register, unassign others, assign) may share it
        stamp = max(now, state.last_timestamp + 1)
        counter = state.max_counter
        creates, names = [], []
        for new in wanted:
            if new.action != REGISTER:
                counter += 1
            tag = format_tag(
                TagName(
                    artifact,
                    new.action,
                    version=new.version,
                    stage=new.stage,
                    counter=None if new.action == REGISTER else counter,
                )
            )
            provenance = {
                **new.provenance,
                "tag": tag,
                "author": f"{name} <{email}>",
                "mlgit": __version__,
                "schema_version": 1,
            }
            message = f"{new.summary}\n\n{json.dumps(provenance, sort_keys=True)}"
            tagger = f"{name} <{email}> {stamp} {tz}"
            creates.append(
                (f"refs/tags/{tag}", make_tag_object(repo, tag, new.commit, tagger, message))
            )
            names.append(tag)
        if create_refs_atomically(repo, creates, (guard_ref(artifact), creates[-1][1], old)):
            return names, state
        time.sleep(random.uniform(0.01, 0.1))
    raise MlgitError(
        f"could not create registry tags for {artifact!r}: other processes kept writing "
        f"{MAX_ATTEMPTS} times in a row; run the command again"
    )


def push_tags(repo: git.Repo, remote: str, tags: Sequence[str]) -> str | None:
    """Push `tags` to `remote`; None on success, else git's reason in one line (the local
    tags stay: the registry is consistent either way)."""
    from mlgit.repo.git import push_refs

    return push_refs(repo, remote, [f"refs/tags/{t}" for t in tags])
