"""The model registry: annotated git tags in GTO's grammar, so `gto show` reads what mlgit writes.

    tags.py        the tag grammar: names parsed and formatted, semantic versions
    state.py       the read side: every tag folded into each artifact's versions and stages
    writes.py      all-or-none tag writes, compare-and-swap against racing writers; push
    provenance.py  what a tag records (commit, metrics, md5s) and what a version needs first
    operations.py  register, promote, rollback, unassign, deprecate -> a RegistryChange

The package re-exports its read and write sides, not `operations`: the gates read stage
holders through `state`, and `operations` runs the gates, so re-exporting it here would make
importing `state` (which runs this file) import the gates back. The operations are called as
`mlgit.models.registry.operations.promote(...)` (see mlgit/commands/registry.py).
"""

from mlgit.models.registry.provenance import check_ready, provenance
from mlgit.models.registry.state import (
    ArtifactState,
    Event,
    RegistryState,
    TagProblem,
    VersionInfo,
    fold,
    read_state,
)
from mlgit.models.registry.tags import (
    ASSIGN,
    BUMPS,
    CREATE,
    DEPRECATE,
    DEREGISTER,
    REGISTER,
    UNASSIGN,
    TagName,
    bump,
    format_tag,
    looks_like_registry_tag,
    parse_tag_name,
    semver_key,
    validate_artifact,
    validate_stage,
    validate_version,
)
from mlgit.models.registry.writes import GUARD_PREFIX, MAX_ATTEMPTS, NewTag, push_tags, write_tags

__all__ = [
    "ASSIGN",
    "BUMPS",
    "CREATE",
    "DEPRECATE",
    "DEREGISTER",
    "GUARD_PREFIX",
    "MAX_ATTEMPTS",
    "REGISTER",
    "UNASSIGN",
    "ArtifactState",
    "Event",
    "NewTag",
    "RegistryState",
    "TagName",
    "TagProblem",
    "VersionInfo",
    "bump",
    "check_ready",
    "fold",
    "format_tag",
    "looks_like_registry_tag",
    "parse_tag_name",
    "provenance",
    "push_tags",
    "read_state",
    "semver_key",
    "validate_artifact",
    "validate_stage",
    "validate_version",
    "write_tags",
]
