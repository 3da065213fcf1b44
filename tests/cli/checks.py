"""check() and finish(): the counting assertions every Python test of attain uses."""
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
