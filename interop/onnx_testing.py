"""What the ONNX tests share: finding ONNX Runtime and the workspace, the
official ONNX checker, running a model in ONNX Runtime, and the comparisons.

The tests run under /usr/bin/python3 (Debian's python3-onnx and numpy) and
ONNX Runtime through Node.js (the npm package onnxruntime-node 1.20.1 that
tools/get_onnxruntime.sh installs; interop/onnx_run.js drives it).

    import onnx_testing as t
    opset = t.check_model("model.onnx")
    logits = t.run_onnxruntime(run_js, "model.onnx", "images.npy", "logits.npy")
"""

import os
import pwd
import shutil
import subprocess
import sys

import numpy as np
import onnx
import onnx.numpy_helper

ONNXRUNTIME_VERSION = "1.20.1"


def cache_dir():
    """The toolkit's cache (~/.cache/psg-toolkit), from the account's home:
    `bazel test` does not pass HOME through."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(pwd.getpwuid(os.getuid()).pw_dir, ".cache")
    return os.path.join(base, "psg-toolkit")


def workspace_dir(runfile):
    """The source workspace, from a runfile that links into it (a BUILD file)."""
    return os.path.dirname(os.path.dirname(os.path.realpath(runfile)))


def onnxruntime_node_path():
    """The node_modules directory holding onnxruntime-node; exits with a
    failure that says how to install it when it is missing."""
    path = os.environ.get("PSG_ONNXRUNTIME_NODE") or os.path.join(
        cache_dir(), "onnxruntime-node-" + ONNXRUNTIME_VERSION, "node_modules")
    if not os.path.isfile(os.path.join(path, "onnxruntime-node", "package.json")):
        fail(f"ONNX Runtime for Node.js is not installed at {path}: run tools/setup.sh "
             "(or tools/get_onnxruntime.sh)")
    return path


def node_binary():
    node = shutil.which("node") or "/usr/bin/node"
    if not os.path.exists(node):
        fail("node (Node.js) is not installed: run tools/setup.sh")
    return node


def fail(message):
    print(f"FAILED: {message}", flush=True)
    sys.exit(1)


def skip(message):
    """Bazel has no skipped state: say so loudly and pass."""
    print(f"SKIPPED: {message}", flush=True)
    sys.exit(0)


def check_model(path):
    """onnx.checker.check_model with full_check (shape inference too); returns
    the default-domain opset the file declares."""
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    return {o.domain: o.version for o in model.opset_import}[""]


def run_onnxruntime(run_js, model, images, output, batch=100, optimization="all"):
    """Runs `model` in ONNX Runtime over the float32 NCHW images of the .npy
    file `images`; returns the logits (also written to the .npy `output`)."""
    env = dict(os.environ, NODE_PATH=onnxruntime_node_path())
    subprocess.run([node_binary(), run_js, model, images, output, str(batch), optimization], check=True,
                   env=env, stdout=subprocess.DEVNULL)
    return np.load(output)


def initializers(model):
    return {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
