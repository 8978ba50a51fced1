"""Tests of tools/torch_bridge.py against the toolkit's own binaries and PyTorch.

Run by //tools:torch_bridge_test (tools/torch_bridge_test.sh runs it with Debian's python3).
The released-checkpoint case needs <repository>/../shared/data (CIFAR-100 and psg-released/) and
skips with a message naming what is missing when it is not there.
"""

import json
import os
import subprocess
import sys
import unittest

import numpy as np
import torch

RUNFILES = os.path.join(os.environ["TEST_SRCDIR"], os.environ.get("TEST_WORKSPACE", "psg_toolkit"))
sys.path.insert(0, os.path.join(RUNFILES, "tools"))
import torch_bridge as bridge  # noqa: E402

TMP = os.environ["TEST_TMPDIR"]
BRIDGE = os.path.join(RUNFILES, "tools", "torch_bridge.py")
REPOSITORY = os.path.dirname(os.path.dirname(os.path.realpath(BRIDGE)))
SHARED = os.path.join(os.path.dirname(REPOSITORY), "shared", "data")


def run(*command):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def toolkit(binary, *flags):
    return run(os.path.join(RUNFILES, "commands", binary), "--threads=1", *flags)


def bridge_cli(*args):
    return run(sys.executable, BRIDGE, *args)


def fake_cifar10(root):
    """Random CIFAR-10 files in the official layout (the toolkit reads all 60,000 records)."""
    directory = os.path.join(root, "cifar-10-batches-bin")
    if not os.path.isdir(directory):
        os.makedirs(directory)
        rng = np.random.default_rng(1)
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            records = rng.integers(0, 256, size=(10000, 3073), dtype=np.uint8)
            records[:, 0] %= 10
            records.tofile(os.path.join(directory, name))
    return root


class RoundTripTest(unittest.TestCase):
    """Toolkit checkpoint -> .pt -> toolkit checkpoint gives the same bytes, and PyTorch's logits
    from the .pt equal the toolkit's."""

    def check(self, model, shortcut="projection"):
        # 30 steps bring BatchNorm's running statistics near the data's, so that logits have the
        # size a trained model's have (tens), where fp32 rounding stays below 1e-4.
        data = fake_cifar10(os.path.join(TMP, "cifar10"))
        run_dir = os.path.join(TMP, f"{model}_{shortcut}")
        toolkit("train", f"--model={model}", f"--shortcut={shortcut}", f"--data_dir={data}",
                f"--output_dir={run_dir}", "--epochs=1", "--stop_after_steps=30", "--batch_size=32",
                "--max_train_images=1024", "--lr=0.01", "--schedule=constant", "--progress_every=0")
        original = os.path.join(run_dir, "last.safetensors")
        exported = os.path.join(run_dir, "model.pt")
        back = os.path.join(run_dir, "back.safetensors")
        bridge_cli("export", f"--model={model}", f"--shortcut={shortcut}", f"--input={original}",
                   f"--output={exported}")
        bridge_cli("import", f"--model={model}", f"--shortcut={shortcut}", f"--input={exported}",
                   f"--output={back}")
        self.assertEqual(open(original, "rb").read(), open(back, "rb").read(),
                         f"{model}: export then import changed the checkpoint")

        toolkit("logits", f"--model={model}", f"--shortcut={shortcut}", f"--data_dir={data}",
                f"--checkpoint={original}", "--max_eval_images=64", f"--output_dir={run_dir}/logits")
        bridge_cli("logits", f"--model={model}", f"--shortcut={shortcut}", f"--input={exported}",
                   f"--images={run_dir}/logits/images.npy", f"--output={run_dir}/torch_logits.npy")
        ours = np.load(f"{run_dir}/logits/logits.npy")
        theirs = np.load(f"{run_dir}/torch_logits.npy")
        self.assertEqual(ours.shape, (64, 10))
        self.assertLess(np.abs(ours - theirs).max(), 1e-4,
                        f"{model}: logits differ (largest |logit| {np.abs(theirs).max():.3g})")
        # The state_dict has PyTorch's names and loads strictly into a torch model.
        state = torch.load(exported, map_location="cpu")["state_dict"]
        bridge.build_torch_model(model, 10, shortcut).load_state_dict(state, strict=True)
        return state

    def test_cifar_resnet_projection(self):
        state = self.check("resnet20")
        self.assertIn("layer2.0.downsample.0.weight", state)  # the released code's layout

    def test_cifar_resnet_zero_pad(self):
        self.check("resnet20", "zeropad")

    def test_resnet18(self):
        state = self.check("resnet18")
        self.assertIn("layer2.0.downsample.1.running_var", state)  # torchvision's names

    def test_vgg16_bn(self):
        state = self.check("vgg16_bn")
        self.assertIn("features.41.running_var", state)  # torchvision: the last conv is 40, its BN 41
        self.assertIn("classifier.weight", state)


class PyTorchTrainedTest(unittest.TestCase):
    """A model trained by PyTorch in the test is imported with its momentum and evaluated by
    //experiments:ptq; its FP accuracy equals PyTorch's on the same images."""

    def test_import_and_ptq(self):
        data = fake_cifar10(os.path.join(TMP, "cifar10"))
        raw = np.fromfile(os.path.join(data, "cifar-10-batches-bin", "data_batch_1.bin"), np.uint8)
        raw = raw.reshape(-1, 3073)[:640]
        x = torch.from_numpy(raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255)
        y = torch.from_numpy(raw[:, 0].astype(np.int64))
        torch.manual_seed(0)
        net = bridge.build_torch_model("resnet20", 10)
        optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
        for step in range(10):
            batch = slice(64 * step, 64 * step + 64)
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net(x[batch]), y[batch]).backward()
            optimizer.step()
        pt = os.path.join(TMP, "torch_trained.pth")
        torch.save({"epoch": 1, "state_dict": net.state_dict(), "optimizer": optimizer.state_dict()}, pt)
        imported = os.path.join(TMP, "torch_trained", "model.safetensors")
        bridge_cli("import", "--model=resnet20", f"--input={pt}", f"--output={imported}",
                   "--steps_per_epoch=10")
        tensors, metadata = bridge.read_checkpoint(imported)
        momentum = optimizer.state_dict()["state"][0]["momentum_buffer"].numpy()
        np.testing.assert_array_equal(tensors["optim/conv1.weight/momentum"], momentum)
        self.assertEqual(list(tensors["rng/run_position"]), [1, 0, 10, 1])
        self.assertEqual(metadata["model"], "resnet20")

        out = os.path.join(TMP, "torch_trained", "ptq")
        toolkit("ptq", "--model=resnet20", f"--data_dir={data}", f"--checkpoint={imported}",
                "--bits=8", "--max_eval_images=512", f"--output_dir={out}")
        results = json.load(open(os.path.join(out, "ptq.json")))["results"]
        ours = next(r for r in results if r["setting"] == "FP")["test_accuracy"]
        toolkit("logits", "--model=resnet20", f"--data_dir={data}", f"--checkpoint={imported}",
                "--max_eval_images=512", f"--output_dir={TMP}/torch_trained/logits")
        images = torch.from_numpy(np.load(f"{TMP}/torch_trained/logits/images.npy"))
        labels = np.load(f"{TMP}/torch_trained/logits/labels.npy")
        net.eval()
        with torch.no_grad():
            theirs = (net(images).argmax(1).numpy() == labels).mean()
        self.assertAlmostEqual(ours, theirs, delta=0.0005)


class ReleasedCheckpointsTest(unittest.TestCase):
    """The authors' released ResNet-32/CIFAR-100 checkpoints: imported with their momentum, and
    the toolkit's FP test accuracy equals PyTorch's on the same file and data (within 0.05
    points)."""

    def setUp(self):
        needed = [os.path.join(SHARED, "psg-released", "ResNet82.pth"),
                  os.path.join(SHARED, "psg-released", "ResNet150.pth"),
                  os.path.join(SHARED, "cifar-100", "build_cifar100.sh")]
        missing = [p for p in needed if not os.path.exists(p)]
        if missing:
            self.skipTest(f"needs the shared data beside the repository; missing: {', '.join(missing)}")
        self.data = os.path.join(TMP, "data")
        run("bash", os.path.join(RUNFILES, "tools", "get_cifar100.sh"), f"--dest={self.data}")

    def torch_accuracy(self, pth):
        raw = np.fromfile(os.path.join(self.data, "cifar-100-binary", "test.bin"), np.uint8).reshape(-1, 3074)
        x = raw[:, 2:].reshape(-1, 3, 32, 32).astype(np.float32) / 255
        # The released pipeline (PSG-pytorch utils.py get_cifar100_dataloaders).
        mean = np.array([129.3, 124.1, 112.4], np.float32).reshape(3, 1, 1) / 255
        std = np.array([68.2, 65.4, 70.4], np.float32).reshape(3, 1, 1) / 255
        x = torch.from_numpy((x - mean) / std)
        net = bridge.build_torch_model("resnet32", 100)
        net.load_state_dict(torch.load(pth, map_location="cpu")["state_dict"])
        net.eval()
        with torch.no_grad():
            predictions = torch.cat([net(x[i:i + 500]).argmax(1) for i in range(0, len(x), 500)])
        return (predictions.numpy() == raw[:, 1]).mean()

    def test_released(self):
        for name in ("ResNet82", "ResNet150"):
            pth = os.path.join(SHARED, "psg-released", f"{name}.pth")
            imported = os.path.join(TMP, "released", f"{name}.safetensors")
            bridge_cli("import", "--model=resnet32", f"--input={pth}", f"--output={imported}")
            tensors, _ = bridge.read_checkpoint(imported)
            released = torch.load(pth, map_location="cpu")
            self.assertEqual(sum(n.endswith("/momentum") for n in tensors), 101)
            first = released["optimizer"]["param_groups"][0]["params"][0]
            np.testing.assert_array_equal(tensors["optim/conv1.weight/momentum"],
                                          released["optimizer"]["state"][first]["momentum_buffer"].numpy())
            out = os.path.join(TMP, "released", f"{name}_ptq")
            toolkit("ptq", "--model=resnet32", "--dataset=cifar100", f"--data_dir={self.data}",
                    f"--checkpoint={imported}", "--bits=8", f"--output_dir={out}")
            results = json.load(open(os.path.join(out, "ptq.json")))["results"]
            ours = next(r for r in results if r["setting"] == "FP")["test_accuracy"]
            theirs = self.torch_accuracy(pth)
            print(f"{name}: toolkit {100 * ours:.2f} %, PyTorch {100 * theirs:.2f} %, "
                  f"stored best_acc {100 * released['best_acc']:.2f} %")
            self.assertAlmostEqual(ours, theirs, delta=0.0005)


if __name__ == "__main__":
    torch.set_num_threads(1)
    unittest.main(verbosity=2)
