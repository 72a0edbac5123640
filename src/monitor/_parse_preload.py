"""Imported by the parse processes' forkserver before it forks a worker (`ingest._pool`):
what every worker needs and would otherwise load on its own is loaded here once."""

import gc

from monitor import normalize, parse, stories  # noqa: F401 - imported for the workers
from monitor.text import warm_lemmas

warm_lemmas()
# datasketch (and numpy/scipy under it) and the MinHash permutations: `normalize` signs each
# article for its story (`stories.sign`).
stories.warm()
# What is loaded so far lives as long as the workers: out of the collector's sight, so that
# no collection in a worker walks it (nor copies its pages, shared since the fork).
gc.freeze()
