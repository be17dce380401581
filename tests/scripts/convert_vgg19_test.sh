#!/usr/bin/env bash
# End-to-end test of scripts/convert_vgg19.py.
#
# Usage: convert_vgg19_test.sh CONVERTER CHECK_BINARY
#   CONVERTER     path to scripts/convert_vgg19.py
#   CHECK_BINARY  the converted_vgg19_check gtest (opens the output with the
#                 engine's SafetensorsFile)
# Saves randomly initialised torchvision vgg19 state dicts as a
# torchvision-style and a Caffe-style .pth, converts both, and checks names,
# shapes, metadata and exact values in Python and in C++. Exits 77 (skipped)
# when the Python at $STYLESWEEP_TORCH_PYTHON (default /usr/bin/python3) has no
# torch or torchvision.
set -euo pipefail

converter=$1
check_binary=$2
python=${STYLESWEEP_TORCH_PYTHON:-/usr/bin/python3}

if ! "$python" -c 'import torch, torchvision' 2>/dev/null; then
  echo "SKIPPED: $python cannot import torch and torchvision (Debian: apt-get install python3-torchvision)"
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/convert_vgg19_test.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. Two random VGG19 state dicts (different seeds): the torchvision-style one
#    complete with its classifier (which the converter must drop), the
#    Caffe-style one with the same feature keys only, as in vgg19-d01eb7cb.pth.
"$python" - "$work" <<'PY'
import sys, torch, torchvision
work = sys.argv[1]
torch.manual_seed(1)
full = torchvision.models.vgg19().state_dict()
torch.manual_seed(2)
features = {f"features.{k}": v for k, v in torchvision.models.vgg19().features.state_dict().items()}
for state, name in ((full, "tv.pth"), (features, "caffe.pth")):
    for k, v in state.items():  # random biases too, so a bias mix-up shows
        if k.endswith(".bias"):
            v.uniform_(-1, 1)
    torch.save(state, f"{work}/{name}")
PY

# 2. Convert both with an explicit format.
"$python" "$converter" --format torchvision "$work/tv.pth" -o "$work/tv.safetensors"
"$python" "$converter" --format caffe "$work/caffe.pth" -o "$work/caffe.safetensors"

# 3. --format auto refuses a file it cannot recognise, and says what to pass.
if "$python" "$converter" "$work/tv.pth" -o "$work/auto.safetensors" 2>"$work/auto.err"; then
  echo "FAIL: --format auto accepted a file with an unknown hash"; exit 1
fi
grep -q -- "pass --format torchvision or --format caffe" "$work/auto.err" || { cat "$work/auto.err"; echo "FAIL: auto message"; exit 1; }
test ! -e "$work/auto.safetensors" || { echo "FAIL: output written despite the error"; exit 1; }

# 4. Check the outputs in Python: names, shapes, metadata, exact values. Also
#    write what the C++ check expects, and two broken inputs.
"$python" - "$work" <<'PY'
import hashlib, json, struct, sys, torch
work = sys.argv[1]
convs = [("conv1_1", 0), ("conv1_2", 2), ("conv2_1", 5), ("conv2_2", 7), ("conv3_1", 10), ("conv3_2", 12),
         ("conv3_3", 14), ("conv3_4", 16), ("conv4_1", 19), ("conv4_2", 21), ("conv4_3", 23), ("conv4_4", 25),
         ("conv5_1", 28), ("conv5_2", 30), ("conv5_3", 32), ("conv5_4", 34)]
inputs = {"tv": "RGB, 0..1, minus mean [0.485,0.456,0.406], divided by std [0.229,0.224,0.225]",
          "caffe": "BGR, 0..255, minus mean [103.939,116.779,123.68]"}

def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)

for stem, expected_input in inputs.items():
    source = torch.load(f"{work}/{stem}.pth")
    raw = open(f"{work}/{stem}.safetensors", "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    if n % 8:
        fail(f"{stem}: header length {n} not a multiple of 8")
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    if set(meta) != {"source", "layout", "input", "arch"}:
        fail(f"{stem}: metadata keys {sorted(meta)}")
    if meta["input"] != expected_input or meta["arch"] != "vgg19":
        fail(f"{stem}: metadata {meta}")
    expected_names = {f"{c}.{p}" for c, _ in convs for p in ("weight", "bias")}
    if set(header) != expected_names:
        fail(f"{stem}: names {sorted(set(header) ^ expected_names)} differ")
    data = raw[8 + n:]
    expected = {"input": expected_input, "tensors": {}}
    for conv, index in convs:
        for part in ("weight", "bias"):
            entry = header[f"{conv}.{part}"]
            src = source[f"features.{index}.{part}"]
            if entry["dtype"] != "F32" or entry["shape"] != list(src.shape):
                fail(f"{stem}: {conv}.{part} is {entry}, source shape {list(src.shape)}")
            begin, end = entry["data_offsets"]
            got = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(src.shape)
            if not torch.equal(got, src):
                fail(f"{stem}: {conv}.{part} values differ from features.{index}.{part}")
            expected["tensors"][f"{conv}.{part}"] = {
                "shape": list(src.shape),
                "sha256": hashlib.sha256(src.contiguous().numpy().astype("<f4").tobytes()).hexdigest()}
    json.dump(expected, open(f"{work}/{stem}.expected.json", "w"))

# Broken inputs for the error messages.
state = torch.load(f"{work}/tv.pth")
del state["features.34.weight"]
torch.save(state, f"{work}/missing.pth")
state = torch.load(f"{work}/tv.pth")
state["features.10.weight"] = state["features.10.weight"][:, :64]
torch.save(state, f"{work}/shape.pth")
print("python checks passed")
PY

# 5. Error messages for a missing key and a wrong shape.
expect_error() {
  local input=$1 pattern=$2
  if "$python" "$converter" --format torchvision "$work/$input" -o "$work/bad.safetensors" 2>"$work/err"; then
    echo "FAIL: $input converted"; exit 1
  fi
  grep -qF -- "$pattern" "$work/err" || { cat "$work/err"; echo "FAIL: expected '$pattern'"; exit 1; }
}
expect_error missing.pth "not a VGG19 state dict: missing features.34.weight (1 of 32 conv keys missing)"
expect_error shape.pth "features.10.weight (conv3_1) has shape [256, 64, 3, 3], expected [256, 128, 3, 3]"

# 6. The engine's reader agrees.
for stem in tv caffe; do
  STYLESWEEP_CONVERTED_VGG19="$work/$stem.safetensors" \
  STYLESWEEP_CONVERTED_VGG19_EXPECTED="$work/$stem.expected.json" \
    "$check_binary"
done
echo "convert_vgg19 test passed"
