"""Imported by the parse processes' forkserver before it forks a worker (`ingest._pool`):
what every worker needs and would otherwise load on its own is loaded here once."""

from monitor import normalize, parse, stories  # noqa: F401 - imported for the workers
from monitor.text import warm_lemmas

warm_lemmas()
# datasketch (and numpy/scipy under it) and the MinHash permutations: `normalize` signs each
# article for its story (`stories.sign`).
stories.warm()
