#!/usr/bin/python3
"""Plain-PyTorch twin of bench/engine_bench.cc's whole-run benchmark.

The same Gatys loop as `stylesweep stylize` (same weights file, layers,
losses on the paper's scale, L-BFGS with history 100, unit steps, no line
search, tolerances off, objective scaled by 1 / max|initial gradient|), written
the way a PyTorch user would: torch.nn.functional layers, autograd,
torch.optim.LBFGS. Prints milliseconds per loss evaluation.

Run with Debian's interpreter (torch 1.13 from python3-torch):
  /usr/bin/python3 bench/pytorch_baseline.py --backbone squeezenet1_0 --size 256
"""
import argparse
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

SHARED = os.environ.get("STYLESWEEP_SHARED_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))

# (name, in, squeeze, expand) of SqueezeNet v1.0, pools after relu1, fire4, fire8.
FIRES = [("fire2", 96, 16, 64), ("fire3", 128, 16, 64), ("fire4", 128, 32, 128), ("fire5", 256, 32, 128),
         ("fire6", 256, 48, 192), ("fire7", 384, 48, 192), ("fire8", 384, 64, 256), ("fire9", 512, 64, 256)]
VGG_CONVS = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3", "conv3_4"]


def load_safetensors(path, memory_format):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"])
        t = torch.from_numpy(array.copy())
        tensors[name] = t.contiguous(memory_format=memory_format) if t.dim() == 4 else t
    return tensors


def squeezenet(weights, wanted):
    def forward(x):
        out = {}
        x = F.relu(F.conv2d(x, weights["conv1.weight"], weights["conv1.bias"], stride=2))
        out["relu1"] = x
        x = F.max_pool2d(x, 3, 2, ceil_mode=True)
        for name, _, _, _ in FIRES:
            if all(w in out for w in wanted):
                break
            s = F.relu(F.conv2d(x, weights[name + ".squeeze.weight"], weights[name + ".squeeze.bias"]))
            x = torch.cat([F.relu(F.conv2d(s, weights[name + ".expand1x1.weight"], weights[name + ".expand1x1.bias"])),
                           F.relu(F.conv2d(s, weights[name + ".expand3x3.weight"], weights[name + ".expand3x3.bias"],
                                           padding=1))], 1)
            out[name] = x
            if name in ("fire4", "fire8"):
                x = F.max_pool2d(x, 3, 2, ceil_mode=True)
        return [out[w] for w in wanted]
    return forward


def vgg19_prefix(weights, wanted):
    def forward(x):
        out = {}
        for conv in VGG_CONVS:
            if all(w in out for w in wanted):
                break
            x = F.relu(F.conv2d(x, weights[conv + ".weight"], weights[conv + ".bias"], padding=1))
            out["relu" + conv[4:]] = x
            if conv in ("conv1_2", "conv2_2", "conv3_4"):
                x = F.avg_pool2d(x, 2, 2)
        return [out[w] for w in wanted]
    return forward


NETWORKS = {
    "squeezenet1_0": ("squeezenet_v1.0.safetensors", squeezenet, [104.0, 117.0, 123.0], ["fire5"],
                      ["relu1", "fire2", "fire3", "fire5", "fire7"]),
    "vgg19": ("vgg19_conv1_1-conv3_4.safetensors", vgg19_prefix, [103.939, 116.779, 123.68], ["relu3_2"],
              ["relu1_1", "relu2_1", "relu3_1"]),
}


def load_pixels(path, size):
    image = Image.open(path).convert("RGB")
    scale = size / max(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BICUBIC)
    return torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1).unsqueeze(0).contiguous()


def gram(f):
    m = f.reshape(f.size(1), -1)
    return m @ m.t()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default="squeezenet1_0", choices=sorted(NETWORKS))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--channels-last", action="store_true", help="channels-last weights and input")
    parser.add_argument("--profile", action="store_true", help="print the autograd profiler's top operators")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    file_name, builder, mean, content_layers, style_layers = NETWORKS[args.backbone]
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    weights = load_safetensors(os.path.join(SHARED, "models", file_name), memory_format)
    layers = content_layers + style_layers
    net = builder(weights, layers)
    bgr_mean = torch.tensor(mean).view(1, 3, 1, 1)

    def to_input(pixels):  # RGB 0..255 -> BGR minus mean
        return (pixels.flip(1) - bgr_mean).contiguous(memory_format=memory_format)

    content = load_pixels(os.path.join(SHARED, "images/content/tubingen.jpg"), args.size)
    style = load_pixels(os.path.join(SHARED, "images/style/starry_night.jpg"), args.size)
    with torch.no_grad():
        content_targets = net(to_input(content))[: len(content_layers)]
        style_targets = [gram(f) / (f.size(2) * f.size(3)) for f in net(to_input(style))[len(content_layers):]]

    alpha, beta = 1.0, 1e3
    x = content.clone().requires_grad_(True)
    scale = [1.0]
    evaluations = [0]
    losses = []

    def closure():
        evaluations[0] += 1
        features = net(to_input(x))
        content_loss = sum(0.5 * (f - t).pow(2).sum() for f, t in zip(features, content_targets))
        style_loss = 0
        for f, a in zip(features[len(content_layers):], style_targets):
            n, m = f.size(1), f.size(2) * f.size(3)
            style_loss = style_loss + (gram(f) / m - a).pow(2).sum() / (4 * n * n) / len(style_layers)
        total = alpha * content_loss + beta * style_loss
        x.grad = None
        (total * scale[0]).backward()
        losses.append(total.item())
        return total.item() * scale[0]

    closure()
    scale[0] = 1.0 / x.grad.abs().max().item()
    optimizer = torch.optim.LBFGS([x], lr=1, max_iter=args.iterations, max_eval=args.iterations,
                                  history_size=100, tolerance_grad=-1, tolerance_change=-1, line_search_fn=None)
    evaluations[0] = 0
    losses.clear()
    start = time.perf_counter()
    if args.profile:
        with torch.autograd.profiler.profile() as prof:
            optimizer.step(closure)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
    else:
        optimizer.step(closure)
    seconds = time.perf_counter() - start
    print(f"backbone={args.backbone} size={args.size} image={tuple(content.shape[2:])} threads={args.threads} "
          f"channels_last={args.channels_last} torch={torch.__version__}")
    print(f"evaluations={evaluations[0]} total={seconds:.2f}s ms_per_iteration={1e3 * seconds / evaluations[0]:.1f} "
          f"first_loss={losses[0]:.4g} last_loss={losses[-1]:.4g}")


if __name__ == "__main__":
    main()
