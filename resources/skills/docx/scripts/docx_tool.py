#!/usr/bin/env python3
"""Create, read and edit .docx documents with python-docx (Vivarium's docx skill)."""

import argparse
import json
import sys

import docx
from docx.enum.text import WD_BREAK


def load_spec(path):
    if path == "-":
        return json.load(sys.stdin)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def add_blocks(document, blocks):
    for block in blocks:
        if "heading" in block:
            document.add_heading(str(block["heading"]), level=int(block.get("level", 1)))
        elif "paragraph" in block:
            run = document.add_paragraph().add_run(str(block["paragraph"]))
            run.bold = bool(block.get("bold"))
            run.italic = bool(block.get("italic"))
        elif "bullets" in block:
            for item in block["bullets"]:
                document.add_paragraph(str(item), style="List Bullet")
        elif "numbered" in block:
            for item in block["numbered"]:
                document.add_paragraph(str(item), style="List Number")
        elif "table" in block:
            rows = block["table"]
            width = max((len(r) for r in rows), default=0)
            table = document.add_table(rows=len(rows), cols=width)
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    cell = table.cell(r, c)
                    cell.text = str(value)
                    if r == 0 and block.get("header"):
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
        elif block.get("page_break"):
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        else:
            sys.exit(f"unknown block {json.dumps(block)[:80]}")


def cmd_create(args):
    spec = load_spec(args.spec)
    document = docx.Document()
    if spec.get("title"):
        document.add_heading(str(spec["title"]), level=0)
        document.core_properties.title = str(spec["title"])
    add_blocks(document, spec.get("blocks") or [])
    document.save(args.output)
    print(f"wrote {args.output}")


def cmd_read(args):
    document = docx.Document(args.input)
    if args.json:
        out = {
            "title": document.core_properties.title,
            "paragraphs": [{"style": p.style.name, "text": p.text} for p in document.paragraphs],
            "tables": [[[cell.text for cell in row.cells] for row in t.rows] for t in document.tables],
        }
        json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return
    for p in document.paragraphs:
        if p.text:
            print(p.text)
    for number, table in enumerate(document.tables, 1):
        print(f"## table {number}")
        for row in table.rows:
            print("\t".join(cell.text for cell in row.cells))


def all_paragraphs(document):
    yield from document.paragraphs
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs


def cmd_replace(args):
    document = docx.Document(args.input)
    count = 0
    for paragraph in all_paragraphs(document):
        for run in paragraph.runs:
            if args.old in run.text:
                count += run.text.count(args.old)
                run.text = run.text.replace(args.old, args.new)
    if count == 0:
        sys.exit(f"{args.old!r} not found (within one formatting run)")
    out = args.out or args.input
    document.save(out)
    print(f"wrote {out}: {count} replacement(s)")


def cmd_append(args):
    document = docx.Document(args.input)
    add_blocks(document, load_spec(args.spec).get("blocks") or [])
    out = args.out or args.input
    document.save(out)
    print(f"wrote {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("create", help="a new document from a JSON spec")
    p.add_argument("output")
    p.add_argument("--spec", required=True, help="JSON file, or - for standard input")
    p.set_defaults(run=cmd_create)
    p = sub.add_parser("read", help="print a document's text")
    p.add_argument("input")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_read)
    p = sub.add_parser("replace", help="replace text everywhere")
    p.add_argument("input")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--out")
    p.set_defaults(run=cmd_replace)
    p = sub.add_parser("append", help="add blocks at the end")
    p.add_argument("input")
    p.add_argument("--spec", required=True)
    p.add_argument("--out")
    p.set_defaults(run=cmd_append)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
