#!/usr/bin/env python3
"""Convert a standard PyTorch VGG19 file to stylesweep's .safetensors naming.

Inputs (state dicts with keys features.N.weight / features.N.bias):
  torchvision  vgg19-dcbb9e9d.pth  RGB, 0..1, minus mean [0.485,0.456,0.406],
                                   divided by std [0.229,0.224,0.225]
  caffe        vgg19-d01eb7cb.pth  (jcjohnson/pytorch-vgg conversion of the
                                   original Oxford Caffe weights) BGR, 0..255,
                                   minus mean [103.939,116.779,123.68]

Output: conv1_1.weight, conv1_1.bias, ... conv5_4.bias (16 convolutions,
float32, OIHW) and __metadata__ {source, layout, input, arch}. The fully
connected classifier is dropped: style transfer uses only the convolutions.

--format auto recognises the two standard files by content: torchvision-style
file names end in the first 8 hex digits of the file's SHA-256, so a file
whose SHA-256 starts with dcbb9e9d is torchvision's and one starting with
d01eb7cb is the Caffe conversion, whatever it is called now. Any other file
is refused with a request for --format: the weights themselves do not reveal
the input convention reliably, and a wrong guess would silently spoil every
result.

Needs a Python with PyTorch (only to read the .pth). On Debian:
  apt-get install python3-torch
  /usr/bin/python3 scripts/convert_vgg19.py --format auto vgg19-dcbb9e9d.pth -o vgg19.safetensors

Exit status: 0 converted; 1 the input is wrong (missing keys, shapes,
unknown format); 2 bad command line; 3 PyTorch is not installed.
"""

import argparse
import hashlib
import json
import os
import re
import struct
import sys
import tempfile

# (name, torchvision features index, out channels, in channels)
VGG19_CONVS = [
    ("conv1_1", 0, 64, 3), ("conv1_2", 2, 64, 64),
    ("conv2_1", 5, 128, 64), ("conv2_2", 7, 128, 128),
    ("conv3_1", 10, 256, 128), ("conv3_2", 12, 256, 256),
    ("conv3_3", 14, 256, 256), ("conv3_4", 16, 256, 256),
    ("conv4_1", 19, 512, 256), ("conv4_2", 21, 512, 512),
    ("conv4_3", 23, 512, 512), ("conv4_4", 25, 512, 512),
    ("conv5_1", 28, 512, 512), ("conv5_2", 30, 512, 512),
    ("conv5_3", 32, 512, 512), ("conv5_4", 34, 512, 512),
]

FORMATS = {
    "torchvision": {
        "hash": "dcbb9e9d",
        "input": "RGB, 0..1, minus mean [0.485,0.456,0.406], divided by std [0.229,0.224,0.225]",
        "description": "torchvision vgg19 ImageNet weights",
    },
    "caffe": {
        "hash": "d01eb7cb",
        "input": "BGR, 0..255, minus mean [103.939,116.779,123.68]",
        "description": "Oxford VGG19 Caffe weights (jcjohnson/pytorch-vgg conversion)",
    },
}


class ConversionError(Exception):
    """The input file cannot be converted; the message says why."""


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def detect_format(path, sha256):
    for name, info in FORMATS.items():
        if sha256.startswith(info["hash"]):
            return name
    raise ConversionError(
        f"{path}: cannot tell whether this is the torchvision (RGB, 0..1) or the Caffe (BGR, 0..255) "
        f"VGG19: its SHA-256 starts with {sha256[:8]}, not {FORMATS['torchvision']['hash']} (torchvision "
        f"vgg19-dcbb9e9d.pth) or {FORMATS['caffe']['hash']} (vgg19-d01eb7cb.pth); pass --format torchvision "
        f"or --format caffe")


def load_state_dict(torch, path):
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:  # PyTorch before 1.13 has no weights_only
            obj = torch.load(path, map_location="cpu")
    except Exception as e:  # torch raises many types for unreadable files
        raise ConversionError(f"{path}: cannot read as a PyTorch file: {e}") from e
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if hasattr(obj, "state_dict") and not isinstance(obj, dict):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise ConversionError(f"{path}: expected a state dict (name -> tensor), found {type(obj).__name__}")
    return {re.sub(r"^module\.", "", k): v for k, v in obj.items()}


def extract_convs(torch, state, path):
    if any(re.match(r"features\.\d+\.running_mean$", k) for k in state):
        raise ConversionError(f"{path}: this is a batch-norm VGG (vgg19_bn); only plain VGG19 is supported")
    missing = [f"features.{i}.{p}" for _, i, _, _ in VGG19_CONVS for p in ("weight", "bias")
               if f"features.{i}.{p}" not in state]
    if missing:
        have = sorted(state)
        shown = ", ".join(have[:12]) + (f", ... ({len(have) - 12} more)" if len(have) > 12 else "")
        raise ConversionError(f"{path}: not a VGG19 state dict: missing {', '.join(missing[:6])}"
                              f"{' ...' if len(missing) > 6 else ''} ({len(missing)} of 32 conv keys missing); "
                              f"the file has: {shown or 'no keys'}")
    out = []
    for name, index, out_ch, in_ch in VGG19_CONVS:
        weight = state[f"features.{index}.weight"]
        bias = state[f"features.{index}.bias"]
        for key, tensor, shape in ((f"features.{index}.weight", weight, (out_ch, in_ch, 3, 3)),
                                   (f"features.{index}.bias", bias, (out_ch,))):
            if not torch.is_tensor(tensor):
                raise ConversionError(f"{path}: {key} is a {type(tensor).__name__}, not a tensor")
            if tuple(tensor.shape) != shape:
                raise ConversionError(f"{path}: {key} ({name}) has shape {list(tensor.shape)}, "
                                      f"expected {list(shape)}")
            if not tensor.is_floating_point():
                raise ConversionError(f"{path}: {key} has dtype {tensor.dtype}; expected floating point")
        out.append((f"{name}.weight", weight))
        out.append((f"{name}.bias", bias))
    return out


def write_safetensors(path, tensors, metadata):
    """Writes (name, float32 tensor) pairs and string metadata atomically."""
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, tensor in tensors:
        data = tensor.detach().to("cpu").float().contiguous().numpy().astype("<f4", copy=False).tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for blob in blobs:
                f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def main(argv):
    parser = argparse.ArgumentParser(
        description="Convert torchvision or Caffe-converted VGG19 .pth weights to stylesweep .safetensors.")
    parser.add_argument("input", help="vgg19-dcbb9e9d.pth (torchvision) or vgg19-d01eb7cb.pth (Caffe)")
    parser.add_argument("-o", "--output", required=True, help="the .safetensors file to write")
    parser.add_argument("--format", choices=["torchvision", "caffe", "auto"], default="auto",
                        help="input convention of the weights (default auto: recognise the two standard "
                             "files by their SHA-256)")
    args = parser.parse_args(argv)

    try:
        import torch
    except ImportError:
        print("convert_vgg19.py: error: needs PyTorch to read .pth files; on Debian: "
              "apt-get install python3-torch, then run with /usr/bin/python3", file=sys.stderr)
        return 3

    try:
        if not os.path.isfile(args.input):
            raise ConversionError(f"{args.input}: no such file")
        sha256 = sha256_of(args.input)
        fmt = detect_format(args.input, sha256) if args.format == "auto" else args.format
        tensors = extract_convs(torch, load_state_dict(torch, args.input), args.input)
        metadata = {
            "source": f"{os.path.basename(args.input)} ({FORMATS[fmt]['description']}; sha256 {sha256})",
            "layout": "PyTorch Conv2d OIHW, float32; classifier dropped",
            "input": FORMATS[fmt]["input"],
            "arch": "vgg19",
        }
        write_safetensors(args.output, tensors, metadata)
    except ConversionError as e:
        print(f"convert_vgg19.py: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"convert_vgg19.py: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}: {len(tensors)} tensors, format {fmt}, input \"{metadata['input']}\"")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
