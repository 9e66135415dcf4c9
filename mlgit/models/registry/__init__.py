"""The model registry: annotated git tags in GTO's grammar, so `gto show` reads what mlgit writes.

    tags.py        the tag grammar: names parsed and formatted, semantic versions
    state.py       the read side: every tag folded into each artifact's versions and stages
    writes.py      all-or-none tag writes, compare-and-swap against racing writers; push
    provenance.py  what a tag records (commit, metrics, md5s) and what a version needs first
    operations.py  register, promote, rollback, unassign, deprecate -> a RegistryChange

Code that only reads the registry (gates, reports) imports `state` and `tags` directly;
only `operations` imports the gates.
"""

from mlgit.models.registry.operations import (
    RegistryChange,
    deprecate,
    promote,
    register,
    require_reason,
    rollback,
    unassign,
)
from mlgit.models.registry.provenance import check_ready, provenance
from mlgit.models.registry.state import (
    ArtifactState,
    Event,
    RegistryState,
    TagProblem,
    VersionInfo,
    declared,
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
    "RegistryChange",
    "RegistryState",
    "TagName",
    "TagProblem",
    "VersionInfo",
    "bump",
    "check_ready",
    "declared",
    "deprecate",
    "fold",
    "format_tag",
    "looks_like_registry_tag",
    "parse_tag_name",
    "promote",
    "provenance",
    "push_tags",
    "read_state",
    "register",
    "require_reason",
    "rollback",
    "semver_key",
    "unassign",
    "validate_artifact",
    "validate_stage",
    "validate_version",
    "write_tags",
]
