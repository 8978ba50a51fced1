#!/usr/bin/env python3
"""The PyTorch bridge: psg-toolkit checkpoints <-> PyTorch checkpoints.

  # a PyTorch checkpoint (a state_dict, or {"state_dict", "optimizer", "epoch", ...}
  # as the released PSG code saves it) -> a toolkit checkpoint
  python3 tools/torch_bridge.py import --model=resnet32 --input=ResNet82.pth \
      --output=runs/released/ResNet82.safetensors
  # a toolkit checkpoint -> {"state_dict", "optimizer", "epoch"} for torch.load
  python3 tools/torch_bridge.py export --model=resnet32 --input=last.safetensors --output=model.pt
  # logits of a checkpoint in this file's PyTorch model, for side-by-side checks
  python3 tools/torch_bridge.py logits --model=resnet32 --input=model.pt --images=x.npy --output=y.npy

Parameter names follow common PyTorch code: the released PSG code's layout for the CIFAR
ResNets (projection shortcuts named `downsample`), torchvision's for ResNet-18, torchvision's
vgg16_bn feature indices with one `classifier` layer for VGG-16-BN (the common CIFAR port).
The toolkit's checkpoint format is read and written with numpy alone (docs/checkpoint-format.md).

SGD momentum buffers travel both ways (`optim/<name>/momentum` <-> the optimizer state of
torch.optim.SGD, whose update is the toolkit's), so that training continues from an imported
checkpoint exactly as the released code would: `--resume` in the toolkit uses them, `--init_from`
starts a fresh optimizer (as the released PSGD phase does). An export keeps everything the
toolkit needs (its tensor order, metadata, run position) so that importing it back gives the
same file, byte for byte.

Needs Debian's python3-torch (run with /usr/bin/python3); torch is a peer here, never a
dependency of the C++ toolkit.
"""

import argparse
import collections
import json
import os
import re
import struct
import sys
import tempfile
import zlib

import numpy as np

FORMAT = "psg-toolkit-checkpoint"
FORMAT_VERSION = "1"
DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8", "U8": "u1", "U64": "<u8"}
POSITION_TENSOR = "rng/run_position"  # epoch, batch, step, seed (train/training_state.cc)
TOOLKIT_KEY = "psg_toolkit"  # what an export keeps for a byte-exact import


class BridgeError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# The toolkit's checkpoint format.

def read_checkpoint(path):
    """(tensors in file order, user metadata) of a toolkit checkpoint, with both CRCs checked."""
    try:
        blob = open(path, "rb").read()
    except OSError as e:
        raise BridgeError(f"checkpoint '{path}': {e.strerror}") from e
    if len(blob) < 8:
        raise BridgeError(f"checkpoint '{path}': {len(blob)} bytes, too short for a header")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise BridgeError(f"checkpoint '{path}': truncated (header of {n} bytes, file {len(blob)})")
    header_bytes, data = blob[8:8 + n], blob[8 + n:]
    try:
        header = json.loads(header_bytes, object_pairs_hook=collections.OrderedDict)
        meta = header.pop("__metadata__")
    except (ValueError, KeyError) as e:
        raise BridgeError(f"checkpoint '{path}': header is not a toolkit header: {e}") from e
    if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise BridgeError(f"checkpoint '{path}': not a {FORMAT} version {FORMAT_VERSION} file")
    if int(meta["crc32"], 16) != zlib.crc32(data):
        raise BridgeError(f"checkpoint '{path}': data buffer is corrupt (CRC-32 mismatch)")
    i = header_bytes.index(b'"header_crc32":"') + 16
    zeroed = header_bytes[:i] + b"00000000" + header_bytes[i + 8:]
    if int(meta["header_crc32"], 16) != zlib.crc32(zeroed):
        raise BridgeError(f"checkpoint '{path}': header is corrupt (CRC-32 mismatch)")
    tensors = collections.OrderedDict()
    for name, t in header.items():
        begin, end = t["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=DTYPES[t["dtype"]]).reshape(t["shape"]).copy()
    user = {k: v for k, v in meta.items() if k not in ("format", "format_version", "crc32", "header_crc32")}
    return tensors, user


def _json_string(s):
    # The C++ writer's escaping (io/json.cc AppendJsonString) is json.dumps' without ASCII escapes.
    return json.dumps(s, ensure_ascii=False)


def checkpoint_bytes(tensors, metadata):
    """The file CheckpointWriter writes for these tensors (in order) and user metadata."""
    names = {np.dtype(v): k for k, v in DTYPES.items()}
    chunks, entries, offset = [], [], 0
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        dtype = names.get(array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype)
        if dtype is None:
            raise BridgeError(f"tensor '{name}': dtype {array.dtype} has no checkpoint dtype")
        raw = array.astype(DTYPES[dtype], copy=False).tobytes()
        shape = "[" + ",".join(str(d) for d in array.shape) + "]"
        entries.append(f'{_json_string(name)}:{{"dtype":"{dtype}","shape":{shape},'
                       f'"data_offsets":[{offset},{offset + len(raw)}]}}')
        chunks.append(raw)
        offset += len(raw)
    data = b"".join(chunks)
    head = ('{"__metadata__":{"format":"' + FORMAT + '","format_version":"' + FORMAT_VERSION +
            '","crc32":"%08x","header_crc32":"' % zlib.crc32(data))
    crc_at = len(head.encode())
    head += '00000000"'
    for key in sorted(metadata, key=lambda k: k.encode()):  # std::map order
        head += "," + _json_string(key) + ":" + _json_string(metadata[key])
    head += "}" + "".join("," + e for e in entries) + "}"
    h = head.encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    h = h[:crc_at] + b"%08x" % zlib.crc32(h) + h[crc_at + 8:]
    return struct.pack("<Q", len(h)) + h + data


def write_atomically(path, blob):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------------------------
# Models: PyTorch definitions whose state_dict names are the common ones, and the map between
# those names and the toolkit's.

CIFAR_RESNET = re.compile(r"resnet(20|32|44|56|110)$")
VGG16_CONFIG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def toolkit_to_torch_name(model, name):
    if CIFAR_RESNET.match(model) or model == "resnet18":
        return name.replace(".shortcut.", ".downsample.")
    if model == "vgg16_bn":
        if name.startswith("fc."):
            return "classifier." + name[3:]
        m = re.match(r"features\.(\d+)\.(conv|bn)\.(.*)$", name)
        if m:
            index = _vgg_torch_index(int(m.group(1))) + (1 if m.group(2) == "bn" else 0)
            return f"features.{index}.{m.group(3)}"
    return name


def _vgg_torch_index(toolkit_index):
    # The toolkit numbers conv and pool entries; torchvision numbers conv, bn, relu, pool modules.
    torch_index = 0
    for i, entry in enumerate(VGG16_CONFIG):
        if i == toolkit_index:
            return torch_index
        torch_index += 1 if entry == "M" else 3
    raise BridgeError(f"vgg16_bn has no features.{toolkit_index}")


def build_torch_model(model, num_classes, shortcut="projection"):
    import torch.nn as nn
    import torch.nn.functional as F

    class BasicBlock(nn.Module):
        def __init__(self, inplanes, planes, stride, zero_pad):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample, self.pad = None, None
            if stride != 1 or inplanes != planes:
                if zero_pad:  # option A: subsample, zero channels on both sides
                    self.pad = (stride, (planes - inplanes) // 2)
                else:
                    self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                                    nn.BatchNorm2d(planes))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if self.downsample is not None:
                x = self.downsample(x)
            elif self.pad is not None:
                stride, pad = self.pad
                x = F.pad(x[:, :, ::stride, ::stride], (0, 0, 0, 0, pad, pad))
            return F.relu(out + x)

    class ResNet(nn.Module):
        def __init__(self, stem, widths, blocks, zero_pad):
            super().__init__()
            self.cifar = stem == "cifar"
            first = widths[0]
            self.conv1 = (nn.Conv2d(3, first, 3, 1, 1, bias=False) if self.cifar
                          else nn.Conv2d(3, first, 7, 2, 3, bias=False))
            self.bn1 = nn.BatchNorm2d(first)
            inplanes = first
            for i, (width, n) in enumerate(zip(widths, blocks)):
                layers = []
                for b in range(n):
                    stride = 2 if (i > 0 and b == 0) else 1
                    layers.append(BasicBlock(inplanes, width, stride, zero_pad))
                    inplanes = width
                setattr(self, f"layer{i + 1}", nn.Sequential(*layers))
            self.stages = len(widths)
            self.fc = nn.Linear(inplanes, num_classes)

        def forward(self, x):
            x = F.relu(self.bn1(self.conv1(x)))
            if not self.cifar:
                x = F.max_pool2d(x, 3, 2, 1)
            for i in range(self.stages):
                x = getattr(self, f"layer{i + 1}")(x)
            return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))

    class Vgg16Bn(nn.Module):
        def __init__(self):
            super().__init__()
            layers, inplanes = [], 3
            for entry in VGG16_CONFIG:
                if entry == "M":
                    layers.append(nn.MaxPool2d(2, 2))
                else:
                    layers += [nn.Conv2d(inplanes, entry, 3, 1, 1), nn.BatchNorm2d(entry), nn.ReLU()]
                    inplanes = entry
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Linear(512, num_classes)

        def forward(self, x):
            return self.classifier(self.features(x).flatten(1))

    m = CIFAR_RESNET.match(model)
    if m:
        n = (int(m.group(1)) - 2) // 6
        return ResNet("cifar", [16, 32, 64], [n] * 3, shortcut == "zeropad")
    if model == "resnet18":
        return ResNet("imagenet", [64, 128, 256, 512], [2] * 4, False)
    if model == "vgg16_bn":
        return Vgg16Bn()
    raise BridgeError(f"--model={model}: the bridge knows resnet20/32/44/56/110, resnet18, vgg16_bn")


def _is_buffer(torch_name):
    return torch_name.endswith(("running_mean", "running_var", "num_batches_tracked"))


# --------------------------------------------------------------------------------------------
# Import: PyTorch -> toolkit.

def load_torch(path):
    import torch
    try:
        obj = torch.load(path, map_location="cpu")
    except (OSError, RuntimeError, EOFError) as e:
        raise BridgeError(f"'{path}': cannot be read by torch.load: {e}") from e
    if isinstance(obj, dict) and "state_dict" in obj:
        return obj
    if isinstance(obj, dict):
        return {"state_dict": obj}
    raise BridgeError(f"'{path}': neither a state_dict nor a dict with a 'state_dict'")


def import_checkpoint(model, torch_path, out_path, num_classes=None, shortcut="projection",
                      steps_per_epoch=391, seed=1):
    """Writes the toolkit checkpoint of `torch_path`; returns a short description."""
    import torch
    ckpt = load_torch(torch_path)
    keep = ckpt.get(TOOLKIT_KEY)
    if keep is not None:  # one of our exports: put back exactly what it came from
        tensors = collections.OrderedDict((n, keep["tensors"].get(n)) for n in keep["order"])
        for name in keep["model_names"]:
            tensors[name] = ckpt["state_dict"][toolkit_to_torch_name(model, name)].numpy()
        write_atomically(out_path, checkpoint_bytes(tensors, keep["metadata"]))
        return f"{len(tensors)} tensors (a toolkit export, restored as it was)"

    state = ckpt["state_dict"]
    state = collections.OrderedDict((k[len("module."):] if k.startswith("module.") else k, v)
                                    for k, v in state.items())
    if num_classes is None:
        fc = state.get("fc.weight", state.get("classifier.weight"))
        if fc is None:
            raise BridgeError(f"'{torch_path}': no fc.weight or classifier.weight to size the classifier")
        num_classes = fc.shape[0]
    reference = build_torch_model(model, num_classes, shortcut).state_dict()
    missing = [k for k in reference if k not in state and not k.endswith("num_batches_tracked")]
    extra = [k for k in state if k not in reference]
    if missing or extra:
        raise BridgeError(f"'{torch_path}' is not a {model} ({num_classes} classes) state_dict: "
                          f"missing {missing[:5]}{'...' if len(missing) > 5 else ''}, "
                          f"unexpected {extra[:5]}{'...' if len(extra) > 5 else ''}")
    torch_to_toolkit = {}
    tensors = collections.OrderedDict()
    for torch_name in reference:
        if torch_name.endswith("num_batches_tracked"):
            continue
        value = state[torch_name]
        if tuple(value.shape) != tuple(reference[torch_name].shape):
            raise BridgeError(f"'{torch_path}': {torch_name} has shape {tuple(value.shape)}, "
                              f"{model} needs {tuple(reference[torch_name].shape)}")
        name = _toolkit_name(model, torch_name)
        torch_to_toolkit[torch_name] = name
        tensors[name] = value.detach().to(torch.float32).numpy()
        if not np.isfinite(tensors[name]).all():
            raise BridgeError(f"'{torch_path}': {torch_name} holds non-finite values")

    epoch = int(ckpt.get("epoch", 0) or 0)
    described = f"{len(tensors)} model tensors"
    momentum = _sgd_momentum(ckpt.get("optimizer"), [k for k in reference if not _is_buffer(k)], torch_path)
    if momentum:
        for torch_name, buffer in momentum.items():
            tensors[f"optim/{torch_to_toolkit[torch_name]}/momentum"] = buffer
        described += f", {len(momentum)} SGD momentum buffers"
    tensors[POSITION_TENSOR] = np.array([epoch, 0, epoch * steps_per_epoch, seed], dtype="<u8")
    metadata = {"epoch": str(epoch), "model": model,
                "imported_from": os.path.abspath(torch_path)}
    if "best_acc" in ckpt:
        metadata["imported_best_acc"] = repr(float(ckpt["best_acc"]))
    write_atomically(out_path, checkpoint_bytes(tensors, metadata))
    return f"{described}, epoch {epoch} (step {epoch * steps_per_epoch} at {steps_per_epoch} steps per epoch)"


def _toolkit_name(model, torch_name):
    if CIFAR_RESNET.match(model) or model == "resnet18":
        return torch_name.replace(".downsample.", ".shortcut.")
    if model == "vgg16_bn":
        if torch_name.startswith("classifier."):
            return "fc." + torch_name[len("classifier."):]
        m = re.match(r"features\.(\d+)\.(.*)$", torch_name)
        index = int(m.group(1))
        for toolkit_index in range(len(VGG16_CONFIG)):
            if VGG16_CONFIG[toolkit_index] == "M":
                continue
            base = _vgg_torch_index(toolkit_index)
            if index in (base, base + 1):
                return f"features.{toolkit_index}.{'conv' if index == base else 'bn'}.{m.group(2)}"
        raise BridgeError(f"vgg16_bn: no toolkit layer for {torch_name}")
    return torch_name


def _sgd_momentum(optimizer, param_names, path):
    """torch name -> momentum buffer, from a torch.optim.SGD state_dict (params in model order)."""
    if not optimizer:
        return {}
    groups = optimizer.get("param_groups", [])
    ids = [i for g in groups for i in g["params"]]
    if len(ids) != len(param_names):
        raise BridgeError(f"'{path}': its optimizer holds {len(ids)} parameters, the model {len(param_names)}")
    out = {}
    for pid, name in zip(ids, param_names):
        entry = optimizer["state"].get(pid, {})
        if "exp_avg" in entry:
            raise BridgeError(f"'{path}': the optimizer state is Adam's; only SGD momentum is imported")
        if entry.get("momentum_buffer") is not None:
            out[name] = entry["momentum_buffer"].detach().float().numpy()
    return out


# --------------------------------------------------------------------------------------------
# Export: toolkit -> PyTorch.

def export_checkpoint(model, in_path, out_path, num_classes=None, shortcut="projection"):
    import torch
    tensors, metadata = read_checkpoint(in_path)
    if num_classes is None:
        num_classes = tensors["fc.weight"].shape[0]
    reference = build_torch_model(model, num_classes, shortcut).state_dict()
    model_names = [n for n in tensors if not n.startswith(("optim/", "rng/"))]
    state = collections.OrderedDict()
    position = tensors.get(POSITION_TENSOR)
    steps = int(position[2]) if position is not None else 0
    for torch_name, ref in reference.items():
        if torch_name.endswith("num_batches_tracked"):
            state[torch_name] = torch.tensor(steps, dtype=torch.int64)
            continue
        name = _toolkit_name(model, torch_name)
        if name not in tensors:
            raise BridgeError(f"checkpoint '{in_path}' has no {name} (needed for {model}'s {torch_name})")
        if tuple(tensors[name].shape) != tuple(ref.shape):
            raise BridgeError(f"checkpoint '{in_path}': {name} has shape {tuple(tensors[name].shape)}, "
                              f"{model} needs {tuple(ref.shape)}")
        state[torch_name] = torch.from_numpy(tensors[name].copy())
    unknown = [n for n in model_names if toolkit_to_torch_name(model, n) not in state]
    if unknown:
        raise BridgeError(f"checkpoint '{in_path}' is not a {model}: unexpected {unknown[:5]}")
    out = {"epoch": int(metadata.get("epoch", 0)), "state_dict": state}
    params = [k for k in reference if not _is_buffer(k)]
    if all(f"optim/{_toolkit_name(model, k)}/momentum" in tensors for k in params):
        out["optimizer"] = {
            "state": {i: {"momentum_buffer": torch.from_numpy(
                tensors[f"optim/{_toolkit_name(model, k)}/momentum"].copy())} for i, k in enumerate(params)},
            "param_groups": [{"momentum": 0.9, "dampening": 0, "nesterov": False,
                              "params": list(range(len(params)))}],
        }
    out[TOOLKIT_KEY] = {
        "order": list(tensors), "model_names": model_names, "metadata": metadata,
        "tensors": {n: t.copy() for n, t in tensors.items() if n not in model_names},  # numpy: torch has no uint64
    }
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    torch.save(out, out_path)
    return f"{len(state)} state_dict entries" + (", SGD momentum" if "optimizer" in out else "")


def logits(model, path, images_path, out_path, num_classes=None, shortcut="projection"):
    """Evaluation-mode logits of the PyTorch model loaded from a .pt/.pth (or toolkit) file."""
    import torch
    if path.endswith(".safetensors"):
        tensors, _ = read_checkpoint(path)
        state = {toolkit_to_torch_name(model, n): torch.from_numpy(t) for n, t in tensors.items()
                 if not n.startswith(("optim/", "rng/"))}
    else:
        state = load_torch(path)["state_dict"]
    if num_classes is None:
        num_classes = (state.get("fc.weight", state.get("classifier.weight"))).shape[0]
    net = build_torch_model(model, num_classes, shortcut)
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise BridgeError(f"'{path}': missing {missing[:5]}, unexpected {unexpected[:5]}")
    net.eval()
    with torch.no_grad():
        y = net(torch.from_numpy(np.load(images_path)).float())
    np.save(out_path, y.numpy())


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["import", "export", "logits"])
    parser.add_argument("--model", required=True, help="resnet20..110, resnet18 or vgg16_bn")
    parser.add_argument("--shortcut", default="projection", choices=["projection", "zeropad"])
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--num_classes", type=int, help="default: the classifier's rows")
    parser.add_argument("--steps_per_epoch", type=int, default=391,
                        help="import: the run position's steps per epoch (CIFAR at batch 128: 391)")
    parser.add_argument("--seed", type=int, default=1, help="import: the seed recorded for --resume")
    parser.add_argument("--images", help="logits: an .npy of N x C x H x W normalized images")
    args = parser.parse_args(argv)
    try:
        if args.command == "import":
            what = import_checkpoint(args.model, args.input, args.output, args.num_classes, args.shortcut,
                                     args.steps_per_epoch, args.seed)
        elif args.command == "export":
            what = export_checkpoint(args.model, args.input, args.output, args.num_classes, args.shortcut)
        else:
            if not args.images:
                raise BridgeError("logits needs --images")
            logits(args.model, args.input, args.images, args.output, args.num_classes, args.shortcut)
            what = "logits"
    except BridgeError as e:
        print(f"torch_bridge: error: {e}", file=sys.stderr)
        return 1
    print(f"torch_bridge: {args.command} {args.input} -> {args.output}: {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
