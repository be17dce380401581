#!/usr/bin/python3
"""Composes docs/contact_sheet.png: content | style | results, one row.

Each picture is scaled to the same height and labelled underneath. Used for
the README's demonstration (Tubingen + Starry Night at 256 px with
squeezenet1_0 and the VGG19 prefix; the commands are in docs/RESULTS.md).

  /usr/bin/python3 scripts/contact_sheet.py -o docs/contact_sheet.png \
      content.jpg:content style.jpg:style a.png:squeezenet1_0 b.png:"VGG19 prefix"
"""
import argparse

from PIL import Image, ImageDraw


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", required=True, help="PNG to write")
    parser.add_argument("--height", type=int, default=192, help="height of each picture in px (default 192)")
    parser.add_argument("panels", nargs="+", help="IMAGE:LABEL, left to right")
    args = parser.parse_args()

    label_height, gap = 18, 4
    tiles = []
    for panel in args.panels:
        path, _, label = panel.partition(":")
        image = Image.open(path).convert("RGB")
        width = round(image.width * args.height / image.height)
        tiles.append((image.resize((width, args.height), Image.LANCZOS), label or path))
    sheet_width = sum(t.width for t, _ in tiles) + gap * (len(tiles) + 1)
    sheet = Image.new("RGB", (sheet_width, args.height + label_height + 2 * gap), "white")
    draw = ImageDraw.Draw(sheet)
    x = gap
    for tile, label in tiles:
        sheet.paste(tile, (x, gap))
        text_width = draw.textlength(label)
        draw.text((x + (tile.width - text_width) / 2, gap + args.height + 3), label, fill="black")
        x += tile.width + gap
    sheet.save(args.output, optimize=True)


if __name__ == "__main__":
    main()
