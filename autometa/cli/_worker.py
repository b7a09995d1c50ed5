"""A helper process for `autometa recommend` run as a fresh process.

Most of a fresh `autometa recommend data.csv` is two independent jobs: reading and
describing the file (pandas, the CSV parser, the cheap meta-features) and importing the
meta-learner (scikit-learn, SciPy, LightGBM, Optuna) and loading the knowledge base and the
fitted stack. Threads cannot overlap them (imports and parsing hold the GIL), two processes
can: the command forks a helper first, which imports and loads while this process reads
the file; this process then sends the helper a summary of the task and the landmarkers'
sample of at most 2,000 rows (:func:`~autometa.metafeatures.landmarking_sample`: same values
as on the whole data), computes the meta-features that need no scikit-learn while the
helper runs the landmarkers, and sends those; the helper answers with the
:class:`~autometa.recommendation.recommender.RecommendationResult`.

Linux only (``fork``), and only where it pays and is safe: the console script in a fresh
process that has imported neither the meta-learner nor LightGBM or scikit-learn. (A process
that has them gains nothing, and one that has run LightGBM must not fork: GNU OpenMP's
thread pool does not survive a fork, and the helper's first LightGBM fit would hang.)
``AUTOMETA_WORKER=0`` turns the helper off; ``=1`` forces it, for tests, where the caller
vouches that no OpenMP code has run. Whatever goes wrong with the helper itself (it dies,
it cannot start), the command falls back to working in-process.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from autometa.cli._common import USER_ERRORS

ENV = "AUTOMETA_WORKER"
#: prctl(2) option: the signal this process gets when its parent ends.
PR_SET_PDEATHSIG = 1
#: Meta-feature groups computed by the process that read the file (no scikit-learn).
LOCAL_GROUPS = ("simple", "statistical", "info_theory", "derived")


class WorkerLost(RuntimeError):
    """The helper process ended without an answer (killed, crashed): work in-process."""


#: Modules whose presence means the helper would gain nothing or risk an OpenMP hang.
HEAVY = ("autometa.meta", "lightgbm", "sklearn")


def wanted(fresh_process: bool) -> bool:
    """Whether to fork a helper: ``AUTOMETA_WORKER`` if set, else a fresh Linux process
    that has imported none of :data:`HEAVY`."""
    setting = os.environ.get(ENV, "").strip()
    if setting == "0" or not sys.platform.startswith("linux"):
        return False
    return setting == "1" or (fresh_process and not any(m in sys.modules for m in HEAVY))


class RecommendWorker:
    """The forked helper: :meth:`recommend` sends it one dataset and returns its answer."""

    def __init__(self, store: str | None, progress: Callable[[str], None] | None) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(child, store, progress, self._conn, os.getpid()),
            name="autometa-recommend",
            daemon=True,
        )
        self._process.start()
        child.close()

    def recommend(self, dataset: Any, **kwargs: Any) -> Any:
        """The helper's RecommendationResult for ``dataset`` (``Recommender.recommend``'s
        keyword arguments); its library errors are raised here, as they were raised there.

        Raises:
            WorkerLost: the helper ended without answering.
        """
        from autometa.metafeatures import compute_metafeatures, landmarking_sample
        from autometa.recommendation.recommender import TaskSummary

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sample = landmarking_sample(dataset.X, dataset.y, dataset.task_type)
        # the sample goes first, from a thread (the helper reads it once it has loaded), so
        # that its landmarkers run while this process computes the other groups
        pool = ThreadPoolExecutor(1)
        try:
            sent = pool.submit(self._conn.send, (TaskSummary.of(dataset), sample, kwargs))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                local = compute_metafeatures(
                    dataset.X, dataset.y, dataset.task_type, groups=LOCAL_GROUPS
                )
            sent.result()
            self._conn.send(local)
            status, payload = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise WorkerLost(f"the helper process ended without an answer ({exc!r})") from exc
        finally:
            pool.shutdown(wait=False)  # a send still blocked ends when close() kills the helper
        if status == "ok":
            return payload
        if status == "error":
            raise payload
        raise RuntimeError(f"autometa's recommend helper process failed:\n{payload}")

    def close(self) -> None:
        """Stop the helper if it is still running (it only reads until it has answered)."""
        self._conn.close()
        if self._process.is_alive():
            self._process.kill()
        self._process.join(timeout=5)


def _serve(
    conn: Any,
    store: str | None,
    progress: Callable[[str], None] | None,
    parents_end: Any = None,
    parent: int | None = None,
) -> None:
    """The helper: import and load, then answer one request (or none, on end of file).
    It closes its copy of the command's end of the pipe (so the command's death reads as
    end of file) and asks the kernel to kill it when the command's process ends."""
    if parents_end is not None:
        parents_end.close()
    if parent is not None:
        _die_with(parent)
    os.dup2(2, 1)  # never write into the command's output (stdout is its JSON)
    sys.stdout = sys.stderr
    try:
        from autometa.recommendation.learners import import_stack
        from autometa.recommendation.recommender import Recommender

        import_stack()
        recommender = Recommender(store=store, progress=progress)
        with contextlib.suppress(Exception):  # errors come back with the answer
            recommender.kb  # noqa: B018
        request = conn.recv()
    except (EOFError, KeyboardInterrupt):
        return  # the command ended (a user error, Ctrl-C) before it needed us
    except BaseException:
        _reply(conn, "crash", traceback.format_exc())
        return
    summary, (X, y), kwargs = request
    try:
        result = recommender.recommend_summary(
            summary,
            lambda: _all_metafeatures(conn.recv, X, y, summary.task_type),
            sample=(X, y),  # what a race cross-validates on
            **kwargs,
        )
    except USER_ERRORS as exc:  # raised again by the command, as one line
        _reply(conn, "error", exc)
    except BaseException:
        _reply(conn, "crash", traceback.format_exc())
    else:
        _reply(conn, "ok", result)


def _die_with(parent: int) -> None:
    """Linux's parent-death signal: SIGKILL this process when ``parent`` ends (and exit
    now if it already has)."""
    import signal

    with contextlib.suppress(Exception):  # no prctl (another libc): end of file still works
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:
        os._exit(0)


def _all_metafeatures(
    local: Callable[[], dict[str, float | None]], X: Any, y: Any, task_type: str
) -> dict[str, float | None]:
    """The landmarkers of the sample, then the local groups (``local()``: the command
    computes them meanwhile), in compute_metafeatures' order."""
    from autometa.metafeatures import compute_metafeatures, metafeature_names

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = compute_metafeatures(X, y, task_type, groups="landmarking")
    values |= local()
    return {name: values[name] for name in metafeature_names(task_type)}


def _reply(conn: Any, status: str, payload: Any) -> None:
    try:
        conn.send((status, payload))
    except OSError:
        return  # the command has gone (killed, Ctrl-C): nobody to answer
    except Exception:  # an unpicklable error: its text still gets through
        with contextlib.suppress(OSError):
            conn.send(("crash", f"{type(payload).__name__}: {payload}"))
