"""Hostile results files and checkpoints, crafted with h5py from genuine ones (issue 22).

A module for the tests (hostile_reader_test.py; a fuzzer or the merge tests may import it):

    import hostile_files as hf
    good = hf.genuine(attain, root, folder)            # a results file made by `attain run`
    bad, obj = hf.scalar_attr_as_array(good, folder)   # a crafted copy, the object to name

Each crafting function copies `src` into `folder` (never changes `src`) and returns
(path of the crafted file, the HDF5 object path its refusal must name). CRAFTS lists
them with their names. Run with /usr/bin/python3 (Debian's python3-h5py, numpy).
"""
import os
import shutil
import stat
import subprocess

import h5py
import numpy as np

SCENARIO = "base"
GROUP = f"/scenarios/{SCENARIO}"


def genuine(attain, root, folder, name="genuine.h5", store="full", runs=2000, extra=()):
    """A results file of tests/data/stochastic.yaml (scenario 'base') with its state."""
    out = os.path.join(folder, name)
    subprocess.run([attain, "run", os.path.join(root, "tests/data/stochastic.yaml"),
                    "--scenario", os.path.join(root, "tests/data/stochastic_base.yaml"),
                    "--runs", str(runs), "--seed", "7", "--store", store, "--save-state",
                    "--out", out, "--quiet", *extra], check=True, stdout=subprocess.DEVNULL)
    return out


def _copy(src, folder, name):
    dst = os.path.join(folder, name + ".h5")
    shutil.copyfile(src, dst)
    os.chmod(dst, stat.S_IRUSR | stat.S_IWUSR)
    return dst


def _replace_dataset(f, path, **kwargs):
    """Deletes dataset `path` of open file `f` and creates it again with h5py's kwargs."""
    del f[path]
    return f.create_dataset(path, **kwargs)


def _replace_attr(obj, name, value, dtype=None):
    if name in obj.attrs:
        del obj.attrs[name]
    obj.attrs.create(name, value, dtype=dtype)


# Finding 1: a scalar attribute stored as an array (u64[64] smashed the stack).
def scalar_attr_as_array(src, folder, attr="seed", n=64, where="/"):
    dst = _copy(src, folder, f"attr_{attr}_array{n}")
    with h5py.File(dst, "r+") as f:
        _replace_attr(f[where], attr, np.arange(n, dtype=np.uint64), dtype=np.uint64)
    return dst, attr


# Finding 1, the state's `first`.
def state_first_as_array(src, folder, n=64):
    return scalar_attr_as_array(src, folder, "first", n, GROUP + "/state")


# Finding 3 (reader side): per-run rows narrower than the model.
def narrow_rows(src, folder):
    dst = _copy(src, folder, "narrow_rows")
    with h5py.File(dst, "r+") as f:
        rows = f[GROUP + "/run"].shape[0]
        _replace_dataset(f, GROUP + "/parameters", data=np.zeros((rows, 1)))
        if GROUP + "/values" in f:
            _replace_dataset(f, GROUP + "/values", data=np.zeros((rows, 1, 1)))
    return dst, GROUP + "/parameters"


# Finding 2: a run coordinate of 64 columns.
def run_coordinate_2d(src, folder, columns=64):
    dst = _copy(src, folder, "run_2d")
    with h5py.File(dst, "r+") as f:
        rows = f[GROUP + "/run"].shape[0]
        run = np.repeat(np.arange(rows, dtype=np.uint64)[:, None], columns, axis=1)
        _replace_dataset(f, GROUP + "/run", data=run)
    return dst, GROUP + "/run"


# Finding 4: an external link to another file (here: another results file).
def external_link(src, folder, target=None, target_object="/scenarios/base/hits"):
    dst = _copy(src, folder, "external_link")
    with h5py.File(dst, "r+") as f:
        del f[GROUP + "/hits"]
        f[GROUP + "/hits"] = h5py.ExternalLink(target or src, target_object)
    return dst, GROUP + "/hits"


# Finding 4: an external link to a FIFO (blocked `export` for ever).
def external_link_to_fifo(src, folder):
    fifo = os.path.join(folder, "fifo")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    dst, obj = external_link(src, folder, fifo, "/x")
    os.replace(dst, os.path.join(folder, "external_fifo.h5"))
    return os.path.join(folder, "external_fifo.h5"), obj


# Finding 4: external storage reading /proc/self/environ as the `mean` column.
def external_storage(src, folder, target="/proc/self/environ"):
    dst = _copy(src, folder, "external_storage")
    with h5py.File(dst, "r+") as f:
        shape = f[GROUP + "/mean"].shape
        _replace_dataset(f, GROUP + "/mean", shape=shape, dtype="<f8",
                         external=[(target, 0, int(np.prod(shape)) * 8)])
    return dst, GROUP + "/mean"


# Finding 4: a virtual dataset mapping another file.
def virtual_dataset(src, folder):
    dst = _copy(src, folder, "virtual")
    with h5py.File(dst, "r+") as f:
        shape = f[GROUP + "/mean"].shape
        layout = h5py.VirtualLayout(shape=shape, dtype="<f8")
        layout[...] = h5py.VirtualSource(src, GROUP + "/mean", shape=shape)
        del f[GROUP + "/mean"]
        f.create_virtual_dataset(GROUP + "/mean", layout)
    return dst, GROUP + "/mean"


# Finding 4: a soft link (attain writes only hard links).
def soft_link(src, folder):
    dst = _copy(src, folder, "soft_link")
    with h5py.File(dst, "r+") as f:
        del f[GROUP + "/hits"]
        f[GROUP + "/hits"] = h5py.SoftLink(GROUP + "/runs")
    return dst, GROUP + "/hits"


# Findings 7 and 10: a tiny file declaring 2^31 values (chunked, deflated, no chunk written).
def huge_declared(src, folder, count=2 ** 31, name="mean"):
    dst = _copy(src, folder, "huge_" + name)
    with h5py.File(dst, "r+") as f:
        _replace_dataset(f, GROUP + "/" + name, shape=(count,), dtype="<f8", chunks=(1 << 16,),
                         compression="gzip")
    return dst, GROUP + "/" + name


# Finding 10: counts out of range (negative, above the runs, NaN) stored as f64 as attain does.
def count_out_of_range(src, folder, value, name="hits"):
    label = {float("inf"): "inf"}.get(value, str(value)).replace("-", "minus").replace(".", "_")
    dst = _copy(src, folder, f"count_{name}_{label}")
    with h5py.File(dst, "r+") as f:
        d = f[GROUP + "/" + name]
        data = d[()].astype("<f8")
        data[0] = value
        _replace_dataset(f, GROUP + "/" + name, data=data)
    return dst, GROUP + "/" + name


def runs_of(path):
    with h5py.File(path, "r") as f:
        return int(f.attrs["runs"])


# Finding 10: a probability outside [0, 1].
def probability_out_of_range(src, folder, value=1.5):
    dst = _copy(src, folder, "probability")
    with h5py.File(dst, "r+") as f:
        d = f[GROUP + "/probability"]
        data = d[()]
        data[0] = value
        d[...] = data
    return dst, GROUP + "/probability"


# Finding 10: a state of another chunk size than the file's.
def state_chunk_size(src, folder, chunk=500):
    dst = _copy(src, folder, "state_chunk")
    with h5py.File(dst, "r+") as f:
        _replace_attr(f[GROUP + "/state"], "chunk_runs", chunk, dtype=np.int32)
    return dst, "chunk_runs"


# A reducer state whose hits exceed its runs (exported as a probability above 1).
def state_hits_above_runs(src, folder):
    dst = _copy(src, folder, "state_hits")
    reducer = GROUP + "/state/0/0"
    with h5py.File(dst, "r+") as f:
        d = f[reducer + "/counts/hits"]
        d[0] = int(f[reducer + "/counts/runs"][0]) + 5
    return dst, reducer


# A partial that does not start where the state does.
def state_partial_index(src, folder, index=7):
    dst = _copy(src, folder, "state_index")
    with h5py.File(dst, "r+") as f:
        _replace_attr(f[GROUP + "/state/0"], "index", index, dtype=np.uint64)
    return dst, GROUP + "/state/0/index"


def checkpoint_with_fifo_state(folder, name="fifo_run.h5"):
    """An `OUT.checkpoint/` folder for `--out OUT` whose state.h5 is a FIFO."""
    out = os.path.join(folder, name)
    cp = out + ".checkpoint"
    os.makedirs(cp, mode=0o700, exist_ok=True)
    os.mkfifo(os.path.join(cp, "state.h5"))
    return out, cp


# The crafted results files: (name, function(src, folder) -> (path, object to name)).
CRAFTS = [
    ("seed_as_u64_64", lambda s, d: scalar_attr_as_array(s, d, "seed", 64)),
    ("seed_as_u64_3", lambda s, d: scalar_attr_as_array(s, d, "seed", 3)),
    ("engine_version_as_u64_64", lambda s, d: scalar_attr_as_array(s, d, "engine_version", 64)),
    ("state_first_as_u64_64", state_first_as_array),
    ("narrow_rows", narrow_rows),
    ("run_coordinate_2d", run_coordinate_2d),
    ("external_link", external_link),
    ("external_link_to_fifo", external_link_to_fifo),
    ("external_storage_environ", external_storage),
    ("virtual_dataset", virtual_dataset),
    ("soft_link", soft_link),
    ("huge_declared", huge_declared),
    # `quantile` has no size the header implies: the file's size bounds it.
    ("huge_declared_unsized", lambda s, d: huge_declared(s, d, name="quantile")),
    ("hits_negative", lambda s, d: count_out_of_range(s, d, -1.0)),
    ("hits_above_runs", lambda s, d: count_out_of_range(s, d, runs_of(s) + 1.0)),
    ("hits_nan", lambda s, d: count_out_of_range(s, d, float("nan"))),
    ("runs_fraction", lambda s, d: count_out_of_range(s, d, 2.5, "runs")),
    ("probability_above_one", probability_out_of_range),
    ("state_chunk_size", state_chunk_size),
    ("state_hits_above_runs", state_hits_above_runs),
    ("state_partial_index", state_partial_index),
]
