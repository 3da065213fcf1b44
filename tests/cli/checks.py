"""check() and finish(): the counting assertions every Python test of attain uses; and
dataset_bytes(), what two results files are compared by."""
import sys

_counts = {"passed": 0, "failed": 0}


def check(cond, what):
    """Counts one check and prints what failed; returns `cond`, so a test can stop early."""
    if cond:
        _counts["passed"] += 1
    else:
        _counts["failed"] += 1
        print("FAIL:", what, flush=True)
    return cond


def finish(label=None):
    """Prints the counts and exits: 1 when a check failed or none ran, else 0."""
    prefix = f"{label}: " if label else ""
    print(f"{prefix}{_counts['passed']} passed, {_counts['failed']} failed", flush=True)
    sys.exit(1 if _counts["failed"] or not _counts["passed"] else 0)


def dataset_bytes(path):
    """Every dataset of an HDF5 file by path: its bytes (strings as their text)."""
    import h5py
    import numpy as np
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                a = np.asarray(obj[()])
                out[name] = a.tobytes() if a.dtype.kind != "O" else repr(list(a.ravel()))
        f.visititems(visit)
    return out
