#!/usr/bin/env bash
# Scores a saved image on the paper's scale with the engine's own losses.
# usage: scripts/score_saved_image.sh STYLESWEEP CONTENT STYLE IMAGE SIZE [engine flags...]
# Prints "content style total" (alpha 1, beta 1e3 unless the flags say
# otherwise: pass the run's --backbone, layers and weights). The content loss
# comes from a run with IMAGE as the style image and --init style (its first
# evaluation is at IMAGE), the style loss from a run with IMAGE as the content
# image; one iteration each, unbounded so that nothing moves IMAGE first.
set -euo pipefail
if [[ $# -lt 5 ]]; then
  echo "usage: $0 STYLESWEEP CONTENT STYLE IMAGE SIZE [engine flags...]" >&2
  exit 2
fi
bin=$1 content=$2 style=$3 image=$4 size=$5
shift 5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" stylize -c "$content" -s "$image" --init style --size "$size" --iterations 1 --pixel-bounds none -q \
  -o "$work/a.png" --history-json "$work/a.json" "$@"
"$bin" stylize -c "$image" -s "$style" --size "$size" --iterations 1 --pixel-bounds none -q \
  -o "$work/b.png" --history-json "$work/b.json" "$@"
/usr/bin/python3 - "$work/a.json" "$work/b.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
content = a["history"][0]["content"]
style = b["history"][0]["style"]
alpha = a.get("options", {}).get("content_weight", 1.0)
beta = b.get("options", {}).get("style_weight", 1e3)
print("%.6e %.6e %.6e" % (content, style, float(alpha) * content + float(beta) * style))
PY
