// Skills (client.beta.skills, client.beta.skills.versions) through the official SDK: uploads of
// a skill folder, versions, the version content download (a zip, read back here by an
// independent reader), refused uploads that store nothing, deletes refused while an agent uses
// the skill, agents attaching skills, and the skill described to the model in a session's
// system prompt (the scripted provider records the request).

import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import zlib from 'node:zlib';

import { startScriptedProvider } from '../provider/scripted-provider.mjs';
import { BadRequestError, ConflictError, NotFoundError, collect, sleep, toFile, uniq, useServer, userMessage } from './helpers.mjs';

let provider;
let env;
const srv = useServer(
    async (ctx) => {
        env = await ctx.client.beta.environments.create({ name: `skills-${uniq()}` });
    },
    async () => {
        provider = await startScriptedProvider();
        return { env: { ANTHROPIC_BASE_URL: provider.url, ANTHROPIC_API_KEY: `sk-ant-skills-${uniq()}` } };
    },
);
after(async () => provider?.close());

const skillMd = (name, description, body = 'Run scripts/hello.sh and report what it prints.') =>
    `---\nname: ${name}\ndescription: ${description}\nlicense: MIT\nmetadata:\n  author: vivarium-tests\n---\n\n# ${name}\n\n${body}\n`;

/** A skill folder as SDK uploads: [path, bytes] pairs → File objects named by their path. */
const upload = (entries) => Promise.all(entries.map(([p, bytes]) => toFile(Buffer.from(bytes), p)));

function folder(name, description, extra = {}) {
    return [
        [`${name}/SKILL.md`, skillMd(name, description)],
        [`${name}/scripts/hello.sh`, '#!/bin/sh\necho "hello from the skill"\n'],
        [`${name}/reference/binary.bin`, Buffer.from([0, 1, 2, 255, 254, 10, 13, 0])],
        ...Object.entries(extra),
    ];
}

/** Every entry of a zip archive, read from its central directory: {name → bytes}. */
function readZip(buf) {
    const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    assert.ok(eocd >= 0, 'the archive has an end of central directory record');
    const count = buf.readUInt16LE(eocd + 10);
    let p = buf.readUInt32LE(eocd + 16);
    const out = new Map();
    for (let i = 0; i < count; ++i) {
        assert.equal(buf.readUInt32LE(p), 0x02014b50, 'central directory entry');
        const method = buf.readUInt16LE(p + 10);
        const crc = buf.readUInt32LE(p + 16);
        const csize = buf.readUInt32LE(p + 20);
        const size = buf.readUInt32LE(p + 24);
        const nlen = buf.readUInt16LE(p + 28);
        const xlen = buf.readUInt16LE(p + 30);
        const clen = buf.readUInt16LE(p + 32);
        const local = buf.readUInt32LE(p + 42);
        const name = buf.subarray(p + 46, p + 46 + nlen).toString('utf8');
        assert.equal(buf.readUInt32LE(local), 0x04034b50, `local header of ${name}`);
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const raw = buf.subarray(start, start + csize);
        const data = method === 0 ? raw : zlib.inflateRawSync(raw);
        assert.equal(data.length, size, `size of ${name}`);
        if (zlib.crc32) assert.equal(zlib.crc32(data) >>> 0, crc, `CRC-32 of ${name}`);
        out.set(name, Buffer.from(data));
        p += 46 + nlen + xlen + clen;
    }
    return out;
}

async function blobCount() {
    return (await readdir(path.join(srv.dataDir, 'skills', 'blobs'))).length;
}

describe('skills API', () => {
    test('create, retrieve, list: display_name from SKILL.md, source custom, one version', async () => {
        const name = `pdf-helper-${uniq()}`.toLowerCase();
        const skill = await srv.client.beta.skills.create({ files: await upload(folder(name, 'Fills PDF forms.')) });
        assert.match(skill.id, /^skill_/);
        assert.equal(skill.type, 'skill');
        assert.equal(skill.display_name, name, 'display_name defaults to the front matter name');
        assert.deepEqual(skill.source, { type: 'custom' });
        assert.ok(skill.latest_version_id);
        assert.ok(!Number.isNaN(Date.parse(skill.created_at)) && !Number.isNaN(Date.parse(skill.updated_at)));

        assert.deepEqual(await srv.client.beta.skills.retrieve(skill.id), skill);
        // The Skills API's beta header is accepted (and not required).
        assert.deepEqual(await srv.client.beta.skills.retrieve(skill.id, { betas: ['skills-2025-10-02'] }), skill);
        const listed = await collect(srv.client.beta.skills.list());
        assert.deepEqual(listed.find((s) => s.id === skill.id), skill);
        assert.equal((await collect(srv.client.beta.skills.list({ source: 'custom' }))).some((s) => s.id === skill.id), true);
        assert.deepEqual(await collect(srv.client.beta.skills.list({ source: 'anthropic' })), []);

        const named = await srv.client.beta.skills.create({
            files: await upload(folder(`${name}-b`, 'Another.')),
            display_name: 'PDF helper (team)',
        });
        assert.equal(named.display_name, 'PDF helper (team)');

        const versions = await collect(srv.client.beta.skills.versions.list(skill.id));
        assert.equal(versions.length, 1);
        assert.deepEqual(versions[0], {
            id: skill.latest_version_id,
            type: 'skill_version',
            skill_id: skill.id,
            created_at: versions[0].created_at,
            name,
            description: 'Fills PDF forms.',
        });
        await assert.rejects(srv.client.beta.skills.retrieve('skill_01nope'), NotFoundError);
    });

    test('versions: create, list newest first, retrieve by id and `latest`, download byte-identical, delete', async () => {
        const name = `report-${uniq()}`.toLowerCase();
        const first = folder(name, 'Writes reports, version one.');
        const skill = await srv.client.beta.skills.create({ files: await upload(first) });
        const v1 = skill.latest_version_id;
        const second = folder(name, 'Writes reports, version two.', { [`${name}/extra/notes.txt`]: 'more\n' });
        const v2 = await srv.client.beta.skills.versions.create(skill.id, { files: await upload(second) });
        assert.equal(v2.type, 'skill_version');
        assert.equal(v2.skill_id, skill.id);
        assert.equal(v2.name, name);
        assert.equal(v2.description, 'Writes reports, version two.');
        assert.ok(BigInt(v2.id) > BigInt(v1), 'version ids increase');

        const after2 = await srv.client.beta.skills.retrieve(skill.id);
        assert.equal(after2.latest_version_id, v2.id);
        assert.deepEqual((await collect(srv.client.beta.skills.versions.list(skill.id))).map((v) => v.id), [v2.id, v1]);
        assert.deepEqual(await srv.client.beta.skills.versions.retrieve('latest', { skill_id: skill.id }), v2);
        assert.equal((await srv.client.beta.skills.versions.retrieve(v1, { skill_id: skill.id })).description, 'Writes reports, version one.');

        // Content: a zip whose one top-level folder is the skill's name, every file byte-identical.
        for (const [version, files] of [[v1, first], [v2.id, second]]) {
            const res = await srv.client.beta.skills.versions.download(version, { skill_id: skill.id });
            assert.equal(res.headers.get('content-type'), 'application/zip');
            const entries = readZip(Buffer.from(await res.arrayBuffer()));
            assert.deepEqual([...entries.keys()].sort(), files.map(([p]) => p).sort());
            for (const [p, bytes] of files) assert.ok(entries.get(p).equals(Buffer.from(bytes)), `${p} is byte-identical`);
        }

        // A later upload must keep the skill's name; refused, it stores nothing.
        const before = await blobCount();
        const renamed = await srv.client.beta.skills.versions
            .create(skill.id, { files: await upload(folder('other-name', 'Renamed.')) })
            .catch((e) => e);
        assert.ok(renamed instanceof BadRequestError, String(renamed));
        assert.match(renamed.message, /name.*other-name.*never changes/);
        assert.equal((await collect(srv.client.beta.skills.versions.list(skill.id))).length, 2);
        assert.equal(await blobCount(), before);

        // Delete v2: latest falls back to v1; the only version left cannot be deleted.
        assert.deepEqual(await srv.client.beta.skills.versions.delete(v2.id, { skill_id: skill.id }), { id: v2.id, type: 'skill_version_deleted' });
        assert.equal((await srv.client.beta.skills.retrieve(skill.id)).latest_version_id, v1);
        await assert.rejects(srv.client.beta.skills.versions.retrieve(v2.id, { skill_id: skill.id }), NotFoundError);
        const only = await srv.client.beta.skills.versions.delete(v1, { skill_id: skill.id }).catch((e) => e);
        assert.ok(only instanceof ConflictError, String(only));
        assert.match(only.message, /only version/);

        assert.deepEqual(await srv.client.beta.skills.delete(skill.id), { id: skill.id, type: 'skill_deleted' });
        await assert.rejects(srv.client.beta.skills.retrieve(skill.id), NotFoundError);
        await assert.rejects(srv.client.beta.skills.versions.list(skill.id).then((p) => p), NotFoundError);
    });

    test('bad uploads are refused with a 400 naming the fault, and store nothing', async () => {
        const skillsBefore = (await collect(srv.client.beta.skills.list())).length;
        const blobsBefore = await blobCount();
        const ok = (n) => `${n}/SKILL.md`;
        const cases = [
            ['no SKILL.md', [['tool/README.md', 'hi']], /no SKILL\.md/],
            ['two top-level folders', [[ok('one'), skillMd('one', 'd')], ['two/x.txt', 'x']], /more than one top-level directory/],
            ['a file outside any folder', [['SKILL.md', skillMd('top', 'd')]], /not inside a folder/],
            ['missing name', [[ok('nameless'), '---\ndescription: no name here\n---\nbody\n']], /no `name`/],
            ['missing description', [[ok('quiet'), '---\nname: quiet\n---\nbody\n']], /no `description`/],
            ['no front matter', [[ok('plain'), '# just markdown\n']], /front matter/],
            ['bad name', [[ok('Bad_Name'), skillMd('Bad_Name', 'd')]], /lowercase/],
            ['reserved name', [[ok('claude-helper'), skillMd('claude-helper', 'd')]], /reserved/],
            ['long description', [[ok('wordy'), skillMd('wordy', 'x'.repeat(1025))]], /description.*1025.*1024/],
            ['`..` path', [[ok('dots'), skillMd('dots', 'd')], ['dots/../escape.txt', 'x']], /`\.\.` segment/],
            ['absolute path', [['/etc/dots/SKILL.md', skillMd('dots', 'd')]], /absolute/],
            ['the same path twice', [[ok('twice'), skillMd('twice', 'd')], [ok('twice'), skillMd('twice', 'd')]], /uploaded twice/],
            ['too big', [[ok('huge'), skillMd('huge', 'd')], ['huge/blob.bin', Buffer.alloc(8 * 1024 * 1024)]], /8 MiB/],
        ];
        for (const [what, entries, message] of cases) {
            const err = await srv.client.beta.skills.create({ files: await upload(entries) }).catch((e) => e);
            assert.ok(err instanceof BadRequestError, `${what}: ${err}`);
            assert.match(err.message, message, what);
            assert.equal(err.error?.error?.type, 'invalid_request_error', what);
        }
        const noFiles = await srv.client.beta.skills.create({ files: [] }).catch((e) => e);
        assert.ok(noFiles instanceof BadRequestError, String(noFiles));
        const longLabel = await srv.client.beta.skills
            .create({ files: await upload(folder('labelled', 'd')), display_name: 'x'.repeat(256) })
            .catch((e) => e);
        assert.ok(longLabel instanceof BadRequestError && /display_name/.test(longLabel.message), String(longLabel));

        assert.equal((await collect(srv.client.beta.skills.list())).length, skillsBefore, 'no skill was stored');
        assert.equal(await blobCount(), blobsBefore, 'no file was stored');
    });
});

describe('skills on agents and in sessions', () => {
    test('agents attach existing custom skills; unknown ids, versions and unknown Anthropic skills are refused', async () => {
        const name = `attach-${uniq()}`.toLowerCase();
        const skill = await srv.client.beta.skills.create({ files: await upload(folder(name, 'Attaches.')) });
        const agent = await srv.client.beta.agents.create({
            name: `skilled-${uniq()}`,
            model: 'claude-sonnet-4-6',
            skills: [{ type: 'custom', skill_id: skill.id }],
        });
        assert.deepEqual(agent.skills, [{ type: 'custom', skill_id: skill.id, version: 'latest' }]);

        const refused = [
            [[{ type: 'custom', skill_id: 'skill_01doesnotexist' }], /skills\[0\]\.skill_id.*no skill skill_01doesnotexist/],
            [[{ type: 'custom', skill_id: skill.id, version: '12345' }], /skills\[0\]\.version.*no version 12345/],
            [[{ type: 'anthropic', skill_id: 'web-research' }], /skills\[0\]\.skill_id.*no pre-built skill \\?"web-research\\?" \(it bundles docx, pdf, pptx, xlsx\)/],
            [[{ type: 'anthropic', skill_id: 'xlsx', version: '20251013' }], /skills\[0\]\.version.*use \\?"latest\\?".*not \\?"20251013\\?"/],
        ];
        for (const [skills, message] of refused) {
            const created = await srv.client.beta.agents.create({ name: 'x', model: 'claude-sonnet-4-6', skills }).catch((e) => e);
            assert.ok(created instanceof BadRequestError, String(created));
            assert.match(created.message, message);
            const updated = await srv.client.beta.agents.update(agent.id, { version: agent.version, skills }).catch((e) => e);
            assert.ok(updated instanceof BadRequestError, String(updated));
            assert.match(updated.message, message);
        }
        assert.equal((await srv.client.beta.agents.retrieve(agent.id)).version, agent.version, 'a refused update writes no version');

        // In use: neither the skill nor a version pinned by an agent can be deleted.
        const inUse = await srv.client.beta.skills.delete(skill.id).catch((e) => e);
        assert.ok(inUse instanceof ConflictError, String(inUse));
        assert.match(inUse.message, new RegExp(`in use by agent ${agent.id}`));
        const v2 = await srv.client.beta.skills.versions.create(skill.id, { files: await upload(folder(name, 'Attaches v2.')) });
        const pinned = await srv.client.beta.agents.create({
            name: `pinned-${uniq()}`,
            model: 'claude-sonnet-4-6',
            skills: [{ type: 'custom', skill_id: skill.id, version: skill.latest_version_id }],
        });
        const pinnedDelete = await srv.client.beta.skills.versions.delete(skill.latest_version_id, { skill_id: skill.id }).catch((e) => e);
        assert.ok(pinnedDelete instanceof ConflictError, String(pinnedDelete));
        assert.match(pinnedDelete.message, new RegExp(`pinned by agent ${pinned.id}`));
        assert.equal((await collect(srv.client.beta.skills.versions.list(skill.id))).length, 2, 'nothing was deleted');

        // Once the agents are archived the skill can go.
        await srv.client.beta.agents.archive(agent.id);
        await srv.client.beta.agents.archive(pinned.id);
        assert.equal((await srv.client.beta.skills.versions.delete(v2.id, { skill_id: skill.id })).id, v2.id);
        assert.equal((await srv.client.beta.skills.delete(skill.id)).id, skill.id);
    });

    test('a session resolves `latest` and describes the skill to the model in the system prompt', async () => {
        const name = `greeter-${uniq()}`.toLowerCase();
        const description = `Greets people warmly; use it whenever someone says hello (${uniq()}).`;
        const instructions = `Always answer with the word ${uniq()}-marker.`;
        const skill = await srv.client.beta.skills.create({
            files: await upload([[`${name}/SKILL.md`, skillMd(name, description, instructions)]]),
        });
        const agent = await srv.client.beta.agents.create({
            name: `greet-${uniq()}`,
            model: 'claude-sonnet-4-6',
            system: 'You are a scripted test agent.',
            skills: [{ type: 'custom', skill_id: skill.id, version: 'latest' }],
        });
        const session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        assert.deepEqual(session.agent.skills, [{ type: 'custom', skill_id: skill.id, version: skill.latest_version_id }]);

        // A newer version after the session started does not change what the session runs.
        await srv.client.beta.skills.versions.create(skill.id, {
            files: await upload([[`${name}/SKILL.md`, skillMd(name, 'A later description.', 'Later.')]]),
        });

        provider.reset();
        provider.enqueue({ text: 'hello' });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('Hello!')] });
        const [req] = await provider.waitForRequests(1);
        const system = typeof req.body.system === 'string' ? req.body.system : req.body.system.map((b) => b.text).join('\n');
        assert.ok(system.startsWith('You are a scripted test agent.'), system);
        assert.ok(system.includes(`name: ${name}`), system);
        assert.ok(system.includes(`description: ${description}`), system);
        assert.ok(system.includes(instructions), 'the SKILL.md instructions (no sandbox here: given inline)');
        assert.ok(system.includes('not available in this session'), 'the prompt says the other files are not there');
        assert.ok(!system.includes('A later description.'), 'the version resolved at session start');
        assert.ok(!system.includes('author: vivarium-tests'), 'the front matter block itself is not repeated');

        // The session uses the skill: it cannot be deleted under it.
        for (let i = 0; i < 100; ++i) {
            if ((await srv.client.beta.sessions.retrieve(session.id)).status === 'idle') break;
            await sleep(20);
        }
        await srv.client.beta.agents.archive(agent.id);
        const del = await srv.client.beta.skills.delete(skill.id).catch((e) => e);
        assert.ok(del instanceof ConflictError, String(del));
        assert.match(del.message, new RegExp(`session ${session.id}`));
    });

    test('Anthropic document skills resolve to Vivarium\'s bundled ones, named in the system prompt', async () => {
        const agent = await srv.client.beta.agents.create({
            name: `docs-${uniq()}`,
            model: 'claude-sonnet-4-6',
            system: 'You are a scripted test agent.',
            skills: [{ type: 'anthropic', skill_id: 'xlsx' }],
        });
        assert.deepEqual(agent.skills, [{ type: 'anthropic', skill_id: 'xlsx', version: 'latest' }]);
        const session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        assert.deepEqual(session.agent.skills, [{ type: 'anthropic', skill_id: 'xlsx', version: 'latest' }]);

        provider.reset();
        provider.enqueue({ text: 'ok' });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('Make me a spreadsheet.')] });
        const [req] = await provider.waitForRequests(1);
        const system = typeof req.body.system === 'string' ? req.body.system : req.body.system.map((b) => b.text).join('\n');
        assert.ok(system.startsWith('You are a scripted test agent.'), system);
        assert.ok(system.includes('name: xlsx'), system);
        assert.match(system, /description: Create, read and edit Excel spreadsheets \(\.xlsx\)/);
        // No sandbox in this suite: the bundled SKILL.md's instructions are given inline.
        assert.ok(system.includes('xlsx_tool.py create report.xlsx'), system);
        assert.ok(system.includes('not available in this session'), system);

    });
});
