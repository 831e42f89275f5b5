// Issue 14's acceptance scenario in one scripted session, through the official SDK, in a real VM:
// an agent with a custom skill (uploaded through the SDK) and a memory store, asked to use both,
//   - reads the skill's SKILL.md and one of its files in the VM (/mnt/skills/<name>/),
//   - reads a memory (/mnt/memory/<store>/) and writes a new one, which becomes a memory version
//     with `session_actor` (listed the moment session.status_idle arrives, retrievable, the
//     memory readable through the SDK),
//   - writes an output file under /mnt/session/outputs/ that files.list({scope_id: session.id})
//     returns at that same moment and that downloads byte-identical;
// and the system prompt the scripted model receives names the skill and the memory mount.
// One VM (no warm pool): the session boots its own.
// Runs under ctest as `sdk_sandbox_acceptance` (label sandbox) with the sandbox test environment.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import { collect, readStreamUntil, toFile, uniq, userMessage } from '../helpers.mjs';
import { newSession, ONE_VM, systemPrompt, textOf, useSandboxServer } from './sandbox-helpers.mjs';

const srv = useSandboxServer({ environment: 'acceptance-vm', env: ONE_VM });

describe('issue 14 acceptance', () => {
    test('a skill and a memory store used in one session: skill read, memory read and written, an output left', async () => {
        // The custom skill, uploaded through the SDK: SKILL.md plus a reference file.
        const skillName = `visit-log-${uniq()}`;
        const stamp = `stamp-${uniq()}`;
        const md = `---\nname: ${skillName}\ndescription: Keeps a log of visits in memory and writes a visit report.\n---\n\nRead reference/format.txt for the report format.\n`;
        const format = `Report format ${stamp}: one line per visit.\n`;
        const skill = await srv.client.beta.skills.create({
            files: [await toFile(Buffer.from(md), `${skillName}/SKILL.md`), await toFile(Buffer.from(format), `${skillName}/reference/format.txt`)],
        });

        // The memory store with one memory the agent reads.
        const ms = srv.client.beta.memoryStores;
        const store = await ms.create({ name: `visits-${uniq()}`, description: 'Past visits.' });
        await ms.memories.create(store.id, { path: '/last-visit.md', content: 'last visit: Monday\n' });

        const session = await newSession(srv, 'acceptance', {
            agent: { skills: [{ type: 'custom', skill_id: skill.id }] },
            resources: [{ type: 'memory_store', memory_store_id: store.id, instructions: 'Log every visit.' }],
        });
        const mount = session.resources.find((r) => r.type === 'memory_store').mount_path;
        assert.equal(mount, `/mnt/memory/${store.name}`);
        const skillDir = `/mnt/skills/${skillName}`;

        // The model's turn: read the skill, read its reference file and the memory, write a
        // memory, leave a report in the outputs folder.
        const visit = `visit ${uniq()}: Tuesday\n`;
        const report = Buffer.concat([Buffer.from(`# Visit report\n${format}`), randomBytes(2048)]);
        srv.provider.reset();
        srv.provider.enqueue(
            { tool_calls: [{ name: 'read', input: { file_path: `${skillDir}/SKILL.md` } }] },
            { tool_calls: [{ name: 'bash', input: { command: `cat ${skillDir}/reference/format.txt '${mount}/last-visit.md'` } }] },
            { tool_calls: [{ name: 'bash', input: { command: `mkdir -p '${mount}/visits' && printf '%s' '${visit}' > '${mount}/visits/tuesday.md' && echo written` } }] },
            {
                tool_calls: [
                    {
                        name: 'bash',
                        input: { command: `base64 -d > /mnt/session/outputs/visit-report.md <<'EOF'\n${report.toString('base64')}\nEOF\nwc -c < /mnt/session/outputs/visit-report.md` },
                    },
                ],
            },
            { text: 'Logged the visit and wrote the report.' },
        );
        // Read on the event stream up to the turn's session.status_idle; the memory versions and
        // the session's files are listed the moment it arrives (no polling, no waiting): the
        // runtime settles memory and outputs before it reports idle.
        const stream = await srv.client.beta.sessions.events.stream(session.id);
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('Log this visit with your skill and memory, and leave a report.')] });
        const seen = await readStreamUntil(stream, (e) => e.type === 'session.status_idle', 600_000);
        assert.equal(seen.at(-1)?.type, 'session.status_idle', `no idle on the stream: ${seen.map((e) => e.type).join(', ')}`);
        const versions = await collect(ms.memoryVersions.list(store.id, { session_id: session.id }));
        const files = await collect(srv.client.beta.files.list({ scope_id: session.id }));
        const events = await collect(srv.client.beta.sessions.events.list(session.id));
        assert.deepEqual(events.filter((e) => e.type === 'session.error'), []);
        const results = events.filter((e) => e.type === 'agent.tool_result');
        assert.equal(results.length, 4);
        for (const r of results) assert.notEqual(r.is_error, true, textOf(r));
        // The skill, read in the VM: SKILL.md by the read tool, its reference file by bash.
        assert.ok(textOf(results[0]).includes('Read reference/format.txt for the report format.'), textOf(results[0]));
        assert.equal(textOf(results[1]), `${format}last visit: Monday`); // bash output loses the final newline
        assert.equal(textOf(results[2]).trim(), 'written');
        assert.equal(textOf(results[3]).trim(), String(report.length));

        // What the model was told: the skill (name, description, folder) and the memory mount.
        const prompt = systemPrompt(srv.provider.requests[0]);
        assert.ok(prompt.includes(`name: ${skillName}`), prompt);
        assert.ok(prompt.includes(`folder: ${skillDir}/`), prompt);
        assert.ok(prompt.includes(`${mount} (read-write)`), prompt);
        assert.ok(prompt.includes('Log every visit.'), prompt);

        // The memory write: a new version by the session (listed at the idle), and the memory itself.
        assert.equal(versions.length, 1, JSON.stringify(versions));
        assert.equal(versions[0].operation, 'created');
        assert.deepEqual(versions[0].created_by, { type: 'session_actor', session_id: session.id });
        const version = await ms.memoryVersions.retrieve(versions[0].id, { memory_store_id: store.id });
        assert.equal(version.path, '/visits/tuesday.md');
        assert.equal(version.content, visit);
        const memories = await collect(ms.memories.list(store.id, { view: 'full' }));
        assert.deepEqual(memories.map((m) => [m.path, m.content]).sort(), [
            ['/last-visit.md', 'last visit: Monday\n'],
            ['/visits/tuesday.md', visit],
        ]);
        // The memory the agent only read has its one version, by the API.
        assert.equal((await collect(ms.memoryVersions.list(store.id))).length, 2);

        // The output: listed by the session's scope at the idle, byte-identical.
        assert.deepEqual(files.map((f) => [f.filename, f.size_bytes]), [['visit-report.md', report.length]]);
        assert.deepEqual(files[0].scope, { type: 'session', id: session.id });
        const downloaded = Buffer.from(await (await srv.client.beta.files.download(files[0].id)).arrayBuffer());
        assert.ok(downloaded.equals(report), 'the output downloads byte-identical');

        await srv.client.beta.sessions.archive(session.id);
    });
});
