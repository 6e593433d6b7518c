"""Hostile cases against the jail (issue 11, properties 2, 3 and 5), for :data:`tests.hostile.corpus.CASES`.

``cache_left_in_shm`` keeps every input and answer of its ``normal_pdf`` in every folder it can write;
``uses_cache_from_shm`` answers correctly only with what an earlier submission kept. The grader takes students
in the order of their names, so the first is graded well before the second (the cases between them in the
corpus take minutes). Neither may gain: the first keeps its honest 10 points, the second loses the one point
it did not earn.
"""

from __future__ import annotations

from .case import Case

#: Where a submission could leave something for a later one, if anything survived a jail.
_STASHES = '("/dev/shm", "/tmp", os.environ.get("HOME", "."), os.environ.get("TMPDIR", "."), ".", "/var/tmp")'

CASES = [
    Case(
        "cache_left_in_shm",
        "a correct normal_pdf that keeps every input it is called with and its answer, in /dev/shm, /tmp, its "
        "home and working folders, for a later submission",
        10,
        code={
            "univariate.py": f"""
_honest_normal_pdf = normal_pdf

def normal_pdf(x, means, variances):
    import os, pickle
    answer = _honest_normal_pdf(x, means, variances)
    key = b"".join(np.ascontiguousarray(np.asarray(a, dtype=float)).tobytes() for a in (x, means, variances))
    for folder in {_STASHES}:
        path = os.path.join(folder, "gmm-stash.pkl")
        try:
            with open(path, "rb") as handle:
                stash = dict(pickle.load(handle))
        except Exception:
            stash = {{}}
        stash[key] = answer
        try:
            with open(path, "wb") as handle:
                pickle.dump(stash, handle)
        except Exception:
            pass
    return answer
"""
        },
    ),
    Case(
        "uses_cache_from_shm",
        "a normal_pdf that returns what an earlier submission kept for these inputs, and zeros without it",
        9,
        code={
            "univariate.py": f"""
def normal_pdf(x, means, variances):
    import os, pickle
    key = b"".join(np.ascontiguousarray(np.asarray(a, dtype=float)).tobytes() for a in (x, means, variances))
    for folder in {_STASHES}:
        try:
            with open(os.path.join(folder, "gmm-stash.pkl"), "rb") as handle:
                return pickle.load(handle)[key]
        except Exception:
            continue
    return np.zeros((np.asarray(x).size, np.asarray(means).size))
"""
        },
    ),
    Case(
        "leaks_the_environment",
        "a correct E-step that raises with the whole environment in its message when it finds any variable "
        "it was not meant to get (a token, a password, the grader's own settings)",
        10,
        code={
            "univariate.py": """
_honest_e_step_1d = e_step_1d

_EXPECTED = {
    "PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "MPLBACKEND", "PYTHONHASHSEED", "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
    "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
    # set by jupyter_client's launcher, ipykernel and debugpy in the kernel itself
    "JPY_PARENT_PID", "TERM", "CLICOLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "PAGER", "GIT_PAGER",
    "PYDEVD_USE_FRAME_EVAL",
}

def e_step_1d(x, weights, means, variances):
    import os
    extra = sorted(set(os.environ) - _EXPECTED)
    if extra:
        raise RuntimeError(f"leaked: {extra}: {dict(os.environ)}")
    return _honest_e_step_1d(x, weights, means, variances)
"""
        },
    ),
    Case(
        "forks_without_end",
        "a correct M-step that first starts 1000 processes that sleep (a fork bomb), and answers wrongly if "
        "all of them started",
        10,
        code={
            "univariate.py": """
_honest_m_step_1d = m_step_1d
_FORKED = []

def m_step_1d(x, resp, var_floor=1e-6):
    import os, time
    if not _FORKED:
        _FORKED.append(0)
        try:
            for _ in range(1000):
                if os.fork() == 0:
                    time.sleep(5)
                    os._exit(0)
                _FORKED[0] += 1
        except OSError:
            pass
    if _FORKED[0] >= 1000:
        return tuple(np.zeros_like(np.asarray(part, dtype=float)) for part in _honest_m_step_1d(x, resp, var_floor))
    return _honest_m_step_1d(x, resp, var_floor)
"""
        },
        report=("process limit",),
    ),
]
