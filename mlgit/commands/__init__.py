"""One module per command: plain functions with typed arguments that return a result or a
`Report`; `mlgit/cli.py` only wires click options to them."""
