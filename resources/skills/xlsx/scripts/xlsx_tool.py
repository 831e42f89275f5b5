#!/usr/bin/env python3
"""Create, read and edit .xlsx workbooks with openpyxl (Vivarium's xlsx skill)."""

import argparse
import json
import sys

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font


def load_spec(path):
    if path == "-":
        return json.load(sys.stdin)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def parse_value(text):
    if text.startswith("="):
        return text
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def cmd_create(args):
    spec = load_spec(args.spec)
    sheets = spec.get("sheets") or []
    if not sheets:
        sys.exit("the spec has no sheets")
    book = Workbook()
    book.remove(book.active)
    for number, sheet in enumerate(sheets, 1):
        ws = book.create_sheet(title=str(sheet.get("title") or f"Sheet{number}"))
        for row in sheet.get("rows") or []:
            ws.append(list(row))
        if sheet.get("header") and ws.max_row >= 1:
            for cell in ws[1]:
                cell.font = Font(bold=True)
        for column, width in (sheet.get("widths") or {}).items():
            ws.column_dimensions[column].width = float(width)
        if sheet.get("freeze"):
            ws.freeze_panes = sheet["freeze"]
    book.save(args.output)
    print(f"wrote {args.output}: {len(sheets)} sheet(s)")


def cmd_read(args):
    book = load_workbook(args.input, data_only=args.values)
    names = [args.sheet] if args.sheet else book.sheetnames
    result = {}
    for name in names:
        if name not in book.sheetnames:
            sys.exit(f"no sheet {name!r}; sheets: {', '.join(book.sheetnames)}")
        rows = [["" if v is None else v for v in row] for row in book[name].iter_rows(values_only=True)]
        result[name] = rows
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=1, default=str)
        print()
        return
    for name, rows in result.items():
        print(f"## {name}")
        for row in rows:
            print("\t".join(str(v) for v in row))


def cmd_set(args):
    book = load_workbook(args.input)
    for assignment in args.assignments:
        target, sep, value = assignment.partition("=")
        if not sep:
            sys.exit(f"expected SHEET!CELL=VALUE or CELL=VALUE, got {assignment!r}")
        sheet, bang, cell = target.rpartition("!")
        ws = book[sheet] if bang else book.active
        ws[cell] = parse_value(value)
    out = args.out or args.input
    book.save(out)
    print(f"wrote {out}: {len(args.assignments)} cell(s) set")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("create", help="a new workbook from a JSON spec")
    p.add_argument("output")
    p.add_argument("--spec", required=True, help="JSON file, or - for standard input")
    p.set_defaults(run=cmd_create)
    p = sub.add_parser("read", help="print a workbook's cells")
    p.add_argument("input")
    p.add_argument("--sheet")
    p.add_argument("--json", action="store_true")
    p.add_argument("--values", action="store_true", help="saved values instead of formulas")
    p.set_defaults(run=cmd_read)
    p = sub.add_parser("set", help="set cells: [SHEET!]CELL=VALUE ...")
    p.add_argument("input")
    p.add_argument("assignments", nargs="+")
    p.add_argument("--out")
    p.set_defaults(run=cmd_set)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
