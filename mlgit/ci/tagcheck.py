"""What the CD pipelines ask before deploying a stage tag: is it still the stage's holder, and
did mlgit make it after passing gates (or with a recorded --force reason)?

Shared by GitHub and GitLab: the pipelines run `mlgit ci check-tag TAG` and read its
`key=value` lines (GitHub's $GITHUB_OUTPUT and GitLab's dotenv use the same form).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlgit.errors import MlgitError


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
    holder = state.stage_holder(parsed.stage)
    if holder is None or holder.version != event.version:
        now = holder.version if holder else "nothing"
        refused.append(
            f"{tag} no longer holds {parsed.stage}: {parsed.stage} holds {now} now "
            "(an older tag pushed late?)"
        )
    if not allow_unverified:
        refused += _provenance_problems(tag, event.provenance)
    return TagVerdict(
        tag, parsed.artifact, event.version, parsed.stage, event.commit, tuple(refused)
    )


def _provenance_problems(tag: str, provenance: dict | None) -> list[str]:
    if provenance is None or "mlgit" not in provenance:
        return [
            f"{tag} has no mlgit provenance (made with `git tag`?); promote with `mlgit "
            "promote`, or set ci.deploy_unverified: true in mlgit.yaml"
        ]
    if provenance.get("forced"):
        reason = str(provenance.get("reason") or "").strip()
        return [] if reason else [f"{tag} was forced without a recorded reason"]
    if "rolled_back" in provenance:
        return []  # a rollback puts back a version that passed its gates before
    failed = [
        f"{g.get('metric')} {g.get('kind')}"
        for g in provenance.get("gates") or []
        if not g.get("ok") and g.get("severity") != "warn"
    ]
    if "gates" not in provenance:
        return [f"{tag}: its provenance records no gate results"]
    return [f"{tag}: gates failed: {', '.join(failed)}"] if failed else []
