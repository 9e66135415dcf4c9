"""mlgit: a git + DVC machine-learning repository as a continuously checked project."""

__version__ = "0.1.0"
