// Vivarium's bundled document skills (`{type: "anthropic", skill_id: "xlsx" | "docx" | "pptx" |
// "pdf"}`) in a real session VM through the official SDK: the agent's session boots on a package
// layer with the skills' Debian packages, each skill's script creates a file of its format in the
// VM, and the file is read back there by that format's own library (openpyxl, python-docx,
// pdftotext; for pptx, which has no Debian 12 library, an independent check of the package's
// parts and relationships with zipfile + ElementTree).
// Runs under ctest as `sdk_sandbox_docskills` (label sandbox) with the sandbox test environment.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { uniq, userMessage } from '../helpers.mjs';
import { newSession, systemPrompt, useSandboxServer, waitIdles } from './sandbox-helpers.mjs';

const srv = useSandboxServer({ environment: 'docskills-vm' });

const marker = `m${uniq()}`.toLowerCase();

// Each format: the skill's script writes the file, then the format's own reader prints it.
const script = String.raw`set -e
mkdir -p /workspace/docs && cd /workspace/docs
S=/mnt/skills
cat > xlsx.json <<'JSON'
{"sheets": [{"title": "Sales", "header": true,
  "rows": [["Region", "Q1", "Q2", "Total"], ["North", 120, 135, "=SUM(B2:C2)"], ["MARKER", 1.5, 2, "=B3*C3"]]}]}
JSON
python3 $S/xlsx/scripts/xlsx_tool.py create out.xlsx --spec xlsx.json
python3 $S/xlsx/scripts/xlsx_tool.py set out.xlsx Sales!B2=125
python3 - <<'PY'
import openpyxl
ws = openpyxl.load_workbook("out.xlsx")["Sales"]
print("XLSX", [[c.value for c in row] for row in ws.iter_rows()], ws["A1"].font.b)
PY
cat > docx.json <<'JSON'
{"title": "Memo MARKER", "blocks": [{"heading": "Summary", "level": 1}, {"paragraph": "Sales rose in the north."},
  {"bullets": ["first point"]}, {"table": [["Region", "Q1"], ["North", "120"]], "header": true}]}
JSON
python3 $S/docx/scripts/docx_tool.py create out.docx --spec docx.json
python3 $S/docx/scripts/docx_tool.py replace out.docx rose fell
python3 - <<'PY'
import docx
d = docx.Document("out.docx")
print("DOCX", [(p.style.name, p.text) for p in d.paragraphs], [[c.text for c in r.cells] for r in d.tables[0].rows])
PY
cat > pptx.json <<'JSON'
{"slides": [{"title": "Deck MARKER", "bullets": ["alpha", {"text": "beta", "level": 1}]}, {"title": "Second", "bullets": ["gamma"]}]}
JSON
python3 $S/pptx/scripts/pptx_tool.py create out.pptx --spec pptx.json
python3 - <<'PY'
import posixpath, zipfile
from xml.etree import ElementTree as ET
z = zipfile.ZipFile("out.pptx")
names = set(z.namelist())
for n in names:
    ET.fromstring(z.read(n))  # every part is well-formed XML
ct = ET.fromstring(z.read("[Content_Types].xml"))
overrides = {o.get("PartName").lstrip("/"): o.get("ContentType") for o in ct if o.tag.endswith("Override")}
assert set(overrides) <= names, set(overrides) - names
for n in names:
    if n.endswith(".rels"):
        base = posixpath.dirname(posixpath.dirname(n))
        for r in ET.fromstring(z.read(n)):
            target = posixpath.normpath(posixpath.join(base, r.get("Target")))
            assert target in names, (n, target)
main = [n for n, t in overrides.items() if t.endswith("presentationml.presentation.main+xml")]
slides = sorted(n for n, t in overrides.items() if t.endswith("presentationml.slide+xml"))
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
texts = [["".join(t.text for t in p.iter(A + "t")) for p in ET.fromstring(z.read(s)).iter(A + "p")] for s in slides]
print("PPTX", main, texts)
PY
cat > pdf.json <<'JSON'
{"title": "Report MARKER", "blocks": [{"heading": "Summary"}, {"paragraph": "Sales rose in both regions."},
  {"bullets": ["North"]}, {"page_break": true}, {"paragraph": "Second page."}]}
JSON
python3 $S/pdf/scripts/pdf_tool.py create out.pdf --spec pdf.json
echo "PDFINFO $(pdfinfo out.pdf | grep -E '^(Pages|Title):' | tr -s ' ' | tr '\n' ';')"
echo "PDFTEXT $(pdftotext out.pdf - | tr -s '\n' '|')"
`.replaceAll('MARKER', marker);

describe('bundled document skills in the session VM', () => {
    test('xlsx, docx, pptx and pdf: the skill writes a file that its own format library reads back', async () => {
        const started = Date.now();
        const session = await newSession(srv, 'docskills', {
            agent: { skills: ['xlsx', 'docx', 'pptx', 'pdf'].map((skill_id) => ({ type: 'anthropic', skill_id })) },
        });
        srv.provider.reset();
        srv.provider.enqueue({ tool_calls: [{ name: 'bash', input: { command: script, timeout_ms: 600_000 } }] }, { text: 'Done.' });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('make one of each')] });
        const events = await waitIdles(srv, session.id, 1, 1_080_000);
        console.log(`# session with the four skills: ${((Date.now() - started) / 1000).toFixed(1)} s to idle`);
        const errors = events.filter((e) => e.type === 'session.error');
        assert.equal(errors.length, 0, JSON.stringify(errors));
        const results = events.filter((e) => e.type === 'agent.tool_result');
        assert.equal(results.length, 1);
        const out = results[0].content.map((c) => c.text).join('');
        assert.notEqual(results[0].is_error, true, out);
        const line = (tag) => out.split('\n').find((l) => l.startsWith(`${tag} `)) ?? assert.fail(`no ${tag} line in:\n${out}`);

        // openpyxl: the cells as written (numbers stay numbers, formulas kept), the edit applied,
        // the header bold.
        assert.equal(
            line('XLSX'),
            `XLSX [['Region', 'Q1', 'Q2', 'Total'], ['North', 125, 135, '=SUM(B2:C2)'], ['${marker}', 1.5, 2, '=B3*C3']] True`,
        );
        // python-docx: title, heading, the replaced paragraph, the bullet's style, the table.
        assert.equal(
            line('DOCX'),
            `DOCX [('Title', 'Memo ${marker}'), ('Heading 1', 'Summary'), ('Normal', 'Sales fell in the north.'), ` +
                `('List Bullet', 'first point')] [['Region', 'Q1'], ['North', '120']]`,
        );
        // The package's parts and relationships are complete; the slides' text in order.
        assert.equal(line('PPTX'), `PPTX ['ppt/presentation.xml'] [['Deck ${marker}', 'alpha', 'beta'], ['Second', 'gamma']]`);
        // poppler: two pages, the title in the metadata and the text on the pages.
        assert.equal(line('PDFINFO'), `PDFINFO Title: Report ${marker};Pages: 2;`);
        assert.match(
            line('PDFTEXT'),
            new RegExp(`^PDFTEXT Report ${marker}\\|Summary\\|Sales rose in both regions\\.\\|.*North\\|.*Second page\\.`),
        );

        // The four skills are described to the model by name and folder.
        const text = systemPrompt(srv.provider.requests[0]);
        for (const name of ['xlsx', 'docx', 'pptx', 'pdf'])
            assert.ok(text.includes(`name: ${name}\n`) && text.includes(`folder: /mnt/skills/${name}/`), text);
    });
});
