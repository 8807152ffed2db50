"""Batches of exact-score simulations, in-process or on a Dask cluster.

:func:`simulate_batch` runs :func:`.simulator.simulate` once per keyword set and returns the
results in the order given. ``scheduler=None`` (default) runs them one after another in this
process; ``"local"`` starts a :class:`distributed.LocalCluster` on this machine for the batch;
any other string is the address of a running Dask scheduler (``tcp://host:8786``). Dask is the
optional extra ``pip install "cfg-distortion[distributed]"``; without it a scheduler is refused
with one line (ValueError).

Reproducibility: every run draws its centroids and noise from its own ``seed``
(:func:`.simulator.draw_centroids`), never from shared state, so a batch gives the same
numbers in-process and on any cluster (asserted on a 2-worker LocalCluster in
``tests/test_validation.py``). A tqdm bar follows the finished runs (``progress=True``).
"""
from __future__ import annotations

from contextlib import contextmanager

EXTRA = 'pip install "cfg-distortion[distributed]"'


def check_scheduler(scheduler) -> str | None:
    """None (in-process), 'local' or an address; refuse a scheduler when Dask is missing."""
    if scheduler is None or scheduler == "":
        return None
    if not isinstance(scheduler, str):
        raise ValueError(f"scheduler must be 'local' or a Dask scheduler address such as tcp://host:8786 "
                         f"(got {scheduler!r})")
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ValueError(f"scheduler {scheduler!r} needs Dask, the optional extra: {EXTRA}") from None
    return scheduler


@contextmanager
def _client(scheduler: str, workers: int | None):
    from distributed import Client, LocalCluster

    if scheduler == "local":
        with LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield client
    else:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"scheduler {scheduler!r}: cannot connect ({exc})") from None
        with client:
            yield client


def run_batch(fn, kwargs_list: list[dict], scheduler=None, progress: bool = False, desc: str = "simulate",
              workers: int | None = None) -> list:
    """[fn(**kw) for kw in kwargs_list], in-process or on Dask, with a bar over finished tasks."""
    from tqdm import tqdm

    scheduler = check_scheduler(scheduler)
    bar = tqdm(total=len(kwargs_list), desc=desc, unit="run", disable=None if progress else True, leave=False)
    try:
        if scheduler is None:
            out = []
            for kw in kwargs_list:
                out.append(fn(**kw))
                bar.update()
            return out
        from distributed import as_completed

        with _client(scheduler, workers) as client:
            futures = [client.submit(fn, pure=False, **kw) for kw in kwargs_list]
            for _ in as_completed(futures):
                bar.update()
            return client.gather(futures)
    finally:
        bar.close()


def simulate_batch(runs: list[dict], scheduler=None, progress: bool = False, workers: int | None = None) -> list:
    """:func:`.simulator.simulate` for each keyword dict of ``runs`` (results in the same order).

    Example: ``simulate_batch([dict(d=40, alpha=0.1, omega=3, seed=s) for s in range(8)],
    scheduler="local")``. See the module docstring for the schedulers.
    """
    from cfg_distortion.finite_d.simulator import simulate

    for kw in runs:
        if not isinstance(kw, dict):
            raise ValueError(f"runs must be a list of keyword dicts for simulate (got {type(kw).__name__})")
    return run_batch(simulate, list(runs), scheduler, progress, "simulate", workers)
