"""gunicorn settings for production (README, "Running in production"):
`gunicorn -c python:app.gunicorn_conf -w 4 -b ... 'app:create_app()'`. A module of the package, so
an installed wheel has it too."""

import gc

# Python's collector runs a generation-0 pass every 700 net allocations. One page allocates tens of
# thousands of short-lived objects (ORM rows, template output), so with the default the collector
# ran several times per request and, every tenth pass, walked the whole loaded app as well: 10-25%
# of a page's CPU (benchmarks/web_pages.py, docs/benchmarks.md). Once a worker has loaded the app,
# its long-lived objects are frozen out of the collector's walks and the passes are made rarer.
GC_THRESHOLDS = (10_000, 50, 100)


def post_worker_init(worker):  # noqa: ARG001 - gunicorn's hook signature
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
