"""What the CD pipelines ask before deploying a stage tag: is it still the stage's holder, and
did mlgit make it after passing gates (or with a recorded --force reason)?

Shared by GitHub and GitLab: the pipelines run `mlgit ci check-tag TAG` and read its
`key=value` lines (GitHub's $GITHUB_OUTPUT and GitLab's dotenv use the same form).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.errors import MlgitError
from mlgit.escape import no_mentions, printable

if TYPE_CHECKING:
    from mlgit.models.registry.state import ArtifactState, Event


@dataclass(frozen=True)
class TagVerdict:
    tag: str
    model: str
    version: str | None
    stage: str
    commit: str
    refused: tuple[str, ...]  # empty: deploy

    def outputs(self) -> str:
        return "".join(
            f"{key}={value}\n"
            for key, value in (
                ("model", self.model),
                ("version", self.version or ""),
                ("stage", self.stage),
                ("commit", self.commit),
            )
        )


def check_tag(root: Path, tag: str, allow_unverified: bool = False) -> TagVerdict:
    from mlgit.models import registry
    from mlgit.repo.git import object_type

    parsed = registry.parse_tag_name(tag)
    if parsed is None or parsed.action != registry.ASSIGN or parsed.stage is None:
        raise MlgitError(
            f"tag {tag!r}: not a stage assignment tag (MODEL#STAGE#N); CD deploys only those"
        )
    state = registry.read_state(root, messages=True).artifact(parsed.artifact)
    event = next((e for e in state.events if e.tag == tag), None)
    if event is None:
        raise MlgitError(f"tag {tag!r}: not in this repository; fetch tags (git fetch --tags)")
    refused = []
    kind = object_type(root, event.commit)
    if kind != "commit":  # a tag on a tree, a blob or another tag: nothing to check out
        what = f"a {kind}" if kind else "a missing object"
        refused.append(
            f"{tag} points at {what} {event.commit}, not "
            "a commit; tag the commit itself (git tag -a TAG COMMIT^{commit})"
        )
    holder = state.stage_holder(parsed.stage)
    if holder is None or holder.version != event.version:
        now = holder.version if holder else "nothing"
        refused.append(
            f"{tag} no longer holds {parsed.stage}: {parsed.stage} holds {now} now "
            "(an older tag pushed late?)"
        )
    if not allow_unverified:
        refused += _provenance_problems(event, state)
    return TagVerdict(
        tag, parsed.artifact, event.version, parsed.stage, event.commit, tuple(refused)
    )


def _provenance_problems(event: Event, state: ArtifactState) -> list[str]:
    """Why `event`'s provenance does not let it deploy. Anyone who can push a tag can write any
    message, so a claim is accepted only as far as it goes: gates must be recorded and pass, a
    rollback must put back a version an earlier tag of the same stage deployed."""
    tag, provenance = event.tag, event.provenance
    if provenance is None or "mlgit" not in provenance:
        return [
            f"{tag} has no mlgit provenance (made with `git tag`?); promote with `mlgit "
            "promote`, or set ci.deploy_unverified: true in mlgit.yaml"
        ]
    if provenance.get("forced"):
        reason = str(provenance.get("reason") or "").strip()
        return [] if reason else [f"{tag} was forced without a recorded reason"]
    if "rolled_back" in provenance:
        earlier = [
            e
            for e in state.events[: state.events.index(event)]
            if e.action == event.action and e.stage == event.stage and e.version == event.version
        ]
        if any(not _provenance_problems(e, state) for e in earlier):
            return []  # a rollback puts back a version that passed its gates before
        return [
            f"{tag} claims a rollback, but no earlier tag put {event.version} in {event.stage} "
            "with passing gates; promote it with `mlgit promote`"
        ]
    gates = provenance.get("gates")
    if not isinstance(gates, list) or not all(isinstance(g, dict) for g in gates):
        return [f"{tag}: its provenance records no gate results"]
    failed = [
        f"{_text(g.get('metric'))} {_text(g.get('kind'))}"
        for g in gates
        if g.get("ok") is not True and g.get("severity") != "warn"
    ]
    return [f"{tag}: gates failed: {', '.join(failed)}"] if failed else []


def _text(value: Any) -> str:
    """A value from a tag message as one harmless line (it reaches the job summary)."""
    return no_mentions(printable(str(value), newlines=False))
