#!/usr/bin/env python3
"""Create PDFs with reportlab; read, merge, pick and rotate pages with pypdf (Vivarium's pdf skill)."""

import argparse
import json
import sys


def load_spec(path):
    if path == "-":
        return json.load(sys.stdin)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def cmd_create(args):
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import (ListFlowable, ListItem, PageBreak, Paragraph, SimpleDocTemplate,
                                    Spacer, Table, TableStyle)

    spec = load_spec(args.spec)
    sizes = {"a4": A4, "letter": letter}
    pagesize = sizes.get(str(spec.get("pagesize", "A4")).lower())
    if pagesize is None:
        sys.exit("pagesize must be A4 or letter")
    styles = getSampleStyleSheet()
    story = []
    title = spec.get("title")
    if title:
        story += [Paragraph(str(title), styles["Title"]), Spacer(1, 0.3 * cm)]
    for block in spec.get("blocks") or []:
        if "heading" in block:
            level = min(max(int(block.get("level", 1)), 1), 3)
            story.append(Paragraph(str(block["heading"]), styles[f"Heading{level}"]))
        elif "paragraph" in block:
            story.append(Paragraph(str(block["paragraph"]), styles["BodyText"]))
        elif "bullets" in block:
            items = [ListItem(Paragraph(str(i), styles["BodyText"])) for i in block["bullets"]]
            story.append(ListFlowable(items, bulletType="bullet", start="\u2022"))
        elif "table" in block:
            table = Table([[str(c) for c in row] for row in block["table"]])
            table.setStyle(TableStyle([
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ]))
            story += [table, Spacer(1, 0.3 * cm)]
        elif block.get("page_break"):
            story.append(PageBreak())
        else:
            sys.exit(f"unknown block {json.dumps(block)[:80]}")
    document = SimpleDocTemplate(args.output, pagesize=pagesize, title=str(title or ""),
                                 leftMargin=2 * cm, rightMargin=2 * cm, topMargin=2 * cm, bottomMargin=2 * cm)
    document.build(story)
    print(f"wrote {args.output}")


def cmd_info(args):
    from pypdf import PdfReader

    reader = PdfReader(args.input)
    box = reader.pages[0].mediabox if reader.pages else None
    meta = reader.metadata or {}
    print(f"pages: {len(reader.pages)}")
    if box is not None:
        print(f"page size: {float(box.width):.0f} x {float(box.height):.0f} pt")
    for key, value in meta.items():
        print(f"{key.lstrip('/')}: {value}")


def cmd_text(args):
    from pypdf import PdfReader

    reader = PdfReader(args.input)
    for number, page in enumerate(reader.pages, 1):
        print(f"## page {number}")
        print(page.extract_text() or "")


def page_numbers(text, count):
    chosen = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        start, end = int(first), int(last or first)
        if not 1 <= start <= end <= count:
            sys.exit(f"pages {part!r} outside 1-{count}")
        chosen.extend(range(start - 1, end))
    return chosen


def cmd_merge(args):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for path in args.inputs:
        for page in PdfReader(path).pages:
            writer.add_page(page)
    with open(args.output, "wb") as f:
        writer.write(f)
    print(f"wrote {args.output}: {len(writer.pages)} page(s)")


def cmd_pages(args):
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(args.input)
    writer = PdfWriter()
    for index in page_numbers(args.range, len(reader.pages)):
        writer.add_page(reader.pages[index])
    with open(args.output, "wb") as f:
        writer.write(f)
    print(f"wrote {args.output}: {len(writer.pages)} page(s)")


def cmd_rotate(args):
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(args.input)
    chosen = set(page_numbers(args.pages, len(reader.pages))) if args.pages else None
    writer = PdfWriter()
    for index, page in enumerate(reader.pages):
        if chosen is None or index in chosen:
            page.rotate(args.degrees)
        writer.add_page(page)
    with open(args.output, "wb") as f:
        writer.write(f)
    print(f"wrote {args.output}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("create", help="a new PDF from a JSON spec")
    p.add_argument("output")
    p.add_argument("--spec", required=True, help="JSON file, or - for standard input")
    p.set_defaults(run=cmd_create)
    p = sub.add_parser("info", help="page count, size and metadata")
    p.add_argument("input")
    p.set_defaults(run=cmd_info)
    p = sub.add_parser("text", help="the text of every page")
    p.add_argument("input")
    p.set_defaults(run=cmd_text)
    p = sub.add_parser("merge", help="join PDFs in order")
    p.add_argument("output")
    p.add_argument("inputs", nargs="+")
    p.set_defaults(run=cmd_merge)
    p = sub.add_parser("pages", help="a new PDF of some pages (e.g. 1-3,5)")
    p.add_argument("output")
    p.add_argument("input")
    p.add_argument("range")
    p.set_defaults(run=cmd_pages)
    p = sub.add_parser("rotate", help="rotate pages by a multiple of 90 degrees")
    p.add_argument("output")
    p.add_argument("input")
    p.add_argument("degrees", type=int, choices=[90, 180, 270])
    p.add_argument("--pages")
    p.set_defaults(run=cmd_rotate)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
