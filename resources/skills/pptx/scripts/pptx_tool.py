#!/usr/bin/env python3
"""Create, read and edit .pptx presentations (Vivarium's pptx skill).

Debian 12 has no python-pptx package, so this writes and reads PresentationML (ECMA-376) with
the standard library alone: a zip of XML parts. The presentations it writes have one slide
master, one "Title and Content" layout and a theme; each slide has a title and a body of
bullet points (with levels) and optional speaker-free notes in the text.
"""

import argparse
import json
import re
import sys
import zipfile
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

NS = {
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "p": "http://schemas.openxmlformats.org/presentationml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
XMLNS = f'xmlns:a="{NS["a"]}" xmlns:r="{NS["r"]}" xmlns:p="{NS["p"]}"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
CT = "application/vnd.openxmlformats-officedocument."
WIDE = (12192000, 6858000)      # 16:9, EMU
STANDARD = (9144000, 6858000)   # 4:3


def rels(entries):
    body = "".join(f'<Relationship Id="{rid}" Type="{REL}{kind}" Target="{target}"/>' for rid, kind, target in entries)
    return f'{DECL}<Relationships xmlns="{NS["rel"]}">{body}</Relationships>'


def group_header():
    return ('<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>'
            '<p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/>'
            '<a:chOff x="0" y="0"/><a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr>')


def placeholder(shape_id, name, ph, box=None, paragraphs="<a:p><a:endParaRPr lang=\"en-US\"/></a:p>"):
    xfrm = ""
    if box:
        x, y, cx, cy = box
        xfrm = f'<a:xfrm><a:off x="{x}" y="{y}"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
    return (f'<p:sp><p:nvSpPr><p:cNvPr id="{shape_id}" name="{name}"/><p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr>'
            f'<p:nvPr>{ph}</p:nvPr></p:nvSpPr><p:spPr>{xfrm}</p:spPr>'
            f'<p:txBody><a:bodyPr/><a:lstStyle/>{paragraphs}</p:txBody></p:sp>')


def boxes(size):
    cx, cy = size
    margin = cx // 16
    return (margin, cy // 20, cx - 2 * margin, cy // 6), (margin, cy // 4, cx - 2 * margin, cy * 2 // 3)


def theme():
    colours = [("dk1", "000000"), ("lt1", "FFFFFF"), ("dk2", "1F2A44"), ("lt2", "E8ECF2"),
               ("accent1", "2F6FB0"), ("accent2", "D9822B"), ("accent3", "3A9B5C"), ("accent4", "8E5AA8"),
               ("accent5", "C0392B"), ("accent6", "5D6D7E"), ("hlink", "1A5FB4"), ("folHlink", "6C3483")]
    scheme = "".join(f'<a:{n}><a:srgbClr val="{v}"/></a:{n}>' for n, v in colours)
    fonts = '<a:latin typeface="{0}"/><a:ea typeface=""/><a:cs typeface=""/>'
    solid = '<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>'
    line = '<a:ln w="{0}"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln>'
    return (f'{DECL}<a:theme xmlns:a="{NS["a"]}" name="Vivarium"><a:themeElements>'
            f'<a:clrScheme name="Vivarium">{scheme}</a:clrScheme>'
            f'<a:fontScheme name="Vivarium"><a:majorFont>{fonts.format("Liberation Sans")}</a:majorFont>'
            f'<a:minorFont>{fonts.format("Liberation Sans")}</a:minorFont></a:fontScheme>'
            f'<a:fmtScheme name="Vivarium"><a:fillStyleLst>{solid * 3}</a:fillStyleLst>'
            f'<a:lnStyleLst>{line.format(6350)}{line.format(12700)}{line.format(19050)}</a:lnStyleLst>'
            f'<a:effectStyleLst>{"<a:effectStyle><a:effectLst/></a:effectStyle>" * 3}</a:effectStyleLst>'
            f'<a:bgFillStyleLst>{solid * 3}</a:bgFillStyleLst></a:fmtScheme>'
            f'</a:themeElements></a:theme>')


def text_runs(text, size=None, bold=False):
    attrs = ' lang="en-US"' + (f' sz="{size}"' if size else "") + (' b="1"' if bold else "")
    return f'<a:r><a:rPr{attrs} dirty="0"/><a:t>{escape(str(text))}</a:t></a:r>'


def bullet_paragraphs(items):
    out = []
    for item in items:
        level, text = 0, item
        if isinstance(item, dict):
            level, text = min(max(int(item.get("level", 0)), 0), 4), item.get("text", "")
        margin = 342900 + level * 457200
        out.append(f'<a:p><a:pPr marL="{margin}" lvl="{level}" indent="-342900"><a:buChar char="\u2022"/></a:pPr>'
                   f'{text_runs(text, size=2400 - 200 * level)}</a:p>')
    return "".join(out) or '<a:p><a:endParaRPr lang="en-US"/></a:p>'


def slide_xml(slide):
    title = f'<a:p>{text_runs(slide.get("title", ""))}</a:p>'
    body = bullet_paragraphs(slide.get("bullets") or ([slide["text"]] if slide.get("text") else []))
    shapes = (placeholder(2, "Title 1", '<p:ph type="title"/>', paragraphs=title)
              + placeholder(3, "Content 2", '<p:ph idx="1"/>', paragraphs=body))
    return (f'{DECL}<p:sld {XMLNS}><p:cSld><p:spTree>{group_header()}{shapes}</p:spTree></p:cSld>'
            f'<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>')


def write_presentation(path, slides, size):
    title_box, body_box = boxes(size)
    master_shapes = (placeholder(2, "Title Placeholder 1", '<p:ph type="title"/>', title_box)
                     + placeholder(3, "Text Placeholder 2", '<p:ph type="body" idx="1"/>', body_box))
    clr_map = ('<p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" '
               'accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink"/>')
    master = (f'{DECL}<p:sldMaster {XMLNS}><p:cSld><p:bg><p:bgRef idx="1001"><a:schemeClr val="bg1"/></p:bgRef></p:bg>'
              f'<p:spTree>{group_header()}{master_shapes}</p:spTree></p:cSld>{clr_map}'
              f'<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst></p:sldMaster>')
    layout_shapes = (placeholder(2, "Title 1", '<p:ph type="title"/>')
                     + placeholder(3, "Content Placeholder 2", '<p:ph idx="1"/>'))
    layout = (f'{DECL}<p:sldLayout {XMLNS} type="obj" preserve="1"><p:cSld name="Title and Content"><p:spTree>'
              f'{group_header()}{layout_shapes}</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr>'
              f'</p:sldLayout>')
    count = len(slides)
    slide_ids = "".join(f'<p:sldId id="{256 + i}" r:id="rId{10 + i}"/>' for i in range(count))
    presentation = (f'{DECL}<p:presentation {XMLNS} saveSubsetFonts="1">'
                    f'<p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>'
                    + (f'<p:sldIdLst>{slide_ids}</p:sldIdLst>' if count else "")
                    + f'<p:sldSz cx="{size[0]}" cy="{size[1]}"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>')
    overrides = [("/ppt/presentation.xml", CT + "presentationml.presentation.main+xml"),
                 ("/ppt/presProps.xml", CT + "presentationml.presProps+xml"),
                 ("/ppt/slideMasters/slideMaster1.xml", CT + "presentationml.slideMaster+xml"),
                 ("/ppt/slideLayouts/slideLayout1.xml", CT + "presentationml.slideLayout+xml"),
                 ("/ppt/theme/theme1.xml", CT + "theme+xml"),
                 ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml")]
    overrides += [(f"/ppt/slides/slide{i + 1}.xml", CT + "presentationml.slide+xml") for i in range(count)]
    types = (f'{DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             + "".join(f'<Override PartName="{n}" ContentType="{t}"/>' for n, t in overrides) + "</Types>")
    core = (f'{DECL}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:title>{escape(str(slides[0].get("title", "")) if slides else "")}</dc:title>'
            '<dc:creator>Vivarium pptx skill</dc:creator></cp:coreProperties>')
    pres_rels = [("rId1", "slideMaster", "slideMasters/slideMaster1.xml"), ("rId2", "theme", "theme/theme1.xml"),
                 ("rId3", "presProps", "presProps.xml")]
    pres_rels += [(f"rId{10 + i}", "slide", f"slides/slide{i + 1}.xml") for i in range(count)]
    parts = {
        "[Content_Types].xml": types,
        "_rels/.rels": rels([("rId1", "officeDocument", "ppt/presentation.xml")]).replace(
            "</Relationships>",
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
            'metadata/core-properties" Target="docProps/core.xml"/></Relationships>'),
        "docProps/core.xml": core,
        "ppt/presentation.xml": presentation,
        "ppt/_rels/presentation.xml.rels": rels(pres_rels),
        "ppt/presProps.xml": f'{DECL}<p:presentationPr {XMLNS}/>',
        "ppt/slideMasters/slideMaster1.xml": master,
        "ppt/slideMasters/_rels/slideMaster1.xml.rels": rels([("rId1", "slideLayout", "../slideLayouts/slideLayout1.xml"),
                                                               ("rId2", "theme", "../theme/theme1.xml")]),
        "ppt/slideLayouts/slideLayout1.xml": layout,
        "ppt/slideLayouts/_rels/slideLayout1.xml.rels": rels([("rId1", "slideMaster", "../slideMasters/slideMaster1.xml")]),
        "ppt/theme/theme1.xml": theme(),
    }
    for i, slide in enumerate(slides):
        parts[f"ppt/slides/slide{i + 1}.xml"] = slide_xml(slide)
        parts[f"ppt/slides/_rels/slide{i + 1}.xml.rels"] = rels([("rId1", "slideLayout", "../slideLayouts/slideLayout1.xml")])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, xml in parts.items():
            z.writestr(name, xml)


# --- reading --------------------------------------------------------------------------------

def slide_parts(z):
    """The slides' part names in presentation order."""
    pres = ET.fromstring(z.read("ppt/presentation.xml"))
    targets = {r.get("Id"): r.get("Target") for r in ET.fromstring(z.read("ppt/_rels/presentation.xml.rels"))}
    ids = pres.find("p:sldIdLst", NS)
    order = [] if ids is None else [s.get(f'{{{NS["r"]}}}id') for s in ids]
    return ["ppt/" + targets[rid].lstrip("/").removeprefix("ppt/") for rid in order]


def read_slide(xml):
    root = ET.fromstring(xml)
    slide = {"title": "", "bullets": [], "texts": []}
    for shape in root.iter(f'{{{NS["p"]}}}sp'):
        ph = shape.find("p:nvSpPr/p:nvPr/p:ph", NS)
        paragraphs = []
        for p in shape.iter(f'{{{NS["a"]}}}p'):
            text = "".join(t.text or "" for t in p.iter(f'{{{NS["a"]}}}t'))
            ppr = p.find("a:pPr", NS)
            level = int(ppr.get("lvl", "0")) if ppr is not None else 0
            if text:
                paragraphs.append((level, text))
        if ph is not None and ph.get("type") in ("title", "ctrTitle"):
            slide["title"] = " ".join(t for _, t in paragraphs)
        elif ph is not None:
            slide["bullets"] += [t if lvl == 0 else {"text": t, "level": lvl} for lvl, t in paragraphs]
        else:
            slide["texts"] += [t for _, t in paragraphs]
    if not slide["texts"]:
        del slide["texts"]
    return slide


def cmd_read(args):
    with zipfile.ZipFile(args.input) as z:
        slides = [read_slide(z.read(name)) for name in slide_parts(z)]
    if args.json:
        json.dump({"slides": slides}, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return
    for number, slide in enumerate(slides, 1):
        print(f"## slide {number}: {slide['title']}")
        for b in slide["bullets"]:
            print(f"- {b}" if isinstance(b, str) else "  " * b["level"] + f"- {b['text']}")
        for t in slide.get("texts", []):
            print(t)


def load_spec(path):
    if path == "-":
        return json.load(sys.stdin)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def cmd_create(args):
    spec = load_spec(args.spec)
    slides = spec.get("slides") or []
    size = STANDARD if spec.get("aspect") == "4:3" else WIDE
    write_presentation(args.output, slides, size)
    print(f"wrote {args.output}: {len(slides)} slide(s)")


def cmd_replace(args):
    with zipfile.ZipFile(args.input) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
        names = slide_parts(z)
    old = escape(args.old).encode()
    new = escape(args.new).encode()
    count = 0
    for name in names:
        def swap(match):
            nonlocal count
            count += match.group(2).count(old)
            return match.group(1) + match.group(2).replace(old, new) + match.group(3)
        parts[name] = re.sub(rb"(<a:t>)(.*?)(</a:t>)", swap, parts[name], flags=re.S)
    if count == 0:
        sys.exit(f"{args.old!r} not found (within one text run)")
    out = args.out or args.input
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    print(f"wrote {out}: {count} replacement(s)")


def cmd_append(args):
    with zipfile.ZipFile(args.input) as z:
        current = [read_slide(z.read(name)) for name in slide_parts(z)]
        pres = ET.fromstring(z.read("ppt/presentation.xml"))
    size_el = pres.find("p:sldSz", NS)
    size = (int(size_el.get("cx")), int(size_el.get("cy"))) if size_el is not None else WIDE
    for slide in current:
        slide.pop("texts", None)
    slides = current + (load_spec(args.spec).get("slides") or [])
    out = args.out or args.input
    write_presentation(out, slides, size)
    print(f"wrote {out}: {len(slides)} slide(s) (rebuilt from their titles and bullets)")


def main():
    parser = argparse.ArgumentParser(description="Create, read and edit .pptx presentations.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("create", help="a new presentation from a JSON spec")
    p.add_argument("output")
    p.add_argument("--spec", required=True, help="JSON file, or - for standard input")
    p.set_defaults(run=cmd_create)
    p = sub.add_parser("read", help="print the slides' titles and text")
    p.add_argument("input")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_read)
    p = sub.add_parser("replace", help="replace text on every slide")
    p.add_argument("input")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--out")
    p.set_defaults(run=cmd_replace)
    p = sub.add_parser("append", help="add slides (rewrites the file from titles and bullets)")
    p.add_argument("input")
    p.add_argument("--spec", required=True)
    p.add_argument("--out")
    p.set_defaults(run=cmd_append)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
