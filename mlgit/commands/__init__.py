"""One module per `mlgit` command: plain functions with typed arguments that load, check and
return a result or a `Report`; `mlgit/cli.py` only wires click options to them."""
