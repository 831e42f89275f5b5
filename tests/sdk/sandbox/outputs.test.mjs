// Session outputs in a real session VM through the official SDK: files the agent writes under
// /mnt/session/outputs/ (the folder exists from the start) are captured into the Files API before
// the session reports idle (listed the moment session.status_idle arrives, without polling), scoped to the session (`files.list({scope_id})`), download
// byte-identical, are not stored twice while unchanged, a changed file is stored again beside the
// earlier one, symbolic links and files over 32 MiB are not captured, and everything outlives
// the session's VM (archiving the session destroys it).
// Runs under ctest as `sdk_sandbox_outputs` (label sandbox) with the sandbox test environment.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import { collect, readStreamUntil, uniq, userMessage } from '../helpers.mjs';
import { newAgent, PREWARM, useSandboxServer } from './sandbox-helpers.mjs';

const srv = useSandboxServer({ environment: 'outputs-vm', env: PREWARM });

// One scripted turn (a bash call, then "Done."), read on the event stream up to its
// session.status_idle; the session's files are listed the moment that idle arrives — no polling,
// no waiting: the runtime captures the outputs before it reports idle.
async function turn(sessionId, command) {
    srv.provider.enqueue({ tool_calls: [{ name: 'bash', input: { command } }] }, { text: 'Done.' });
    const stream = await srv.client.beta.sessions.events.stream(sessionId);
    const sent = await srv.client.beta.sessions.events.send(sessionId, { events: [userMessage('write your outputs')] });
    let mine = false;
    const seen = await readStreamUntil(
        stream,
        (e) => (mine ||= e.id === sent.data[0].id) && e.type === 'session.status_idle',
        300_000,
    );
    assert.equal(seen.at(-1)?.type, 'session.status_idle', `no idle on the stream: ${seen.map((e) => e.type).join(', ')}`);
    const files = await collect(srv.client.beta.files.list({ scope_id: sessionId }));
    const events = await collect(srv.client.beta.sessions.events.list(sessionId));
    assert.equal(events.filter((e) => e.type === 'session.error').length, 0, JSON.stringify(events.filter((e) => e.type === 'session.error')));
    const results = events.filter((e) => e.type === 'agent.tool_result');
    const last = results[results.length - 1];
    assert.notEqual(last.is_error, true, JSON.stringify(last.content));
    return { out: last.content[0].text, files };
}

async function download(id) {
    return Buffer.from(await (await srv.client.beta.files.download(id)).arrayBuffer());
}

const byName = (files) => files.map((f) => `${f.filename}:${f.size_bytes}`).sort();

describe('session outputs', () => {
    test('files under /mnt/session/outputs/ are captured at idle, scoped to the session, deduplicated, and outlive the VM', async () => {
        const agent = await newAgent(srv, 'outputs-vm');
        const session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: srv.environment.id });
        const other = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: srv.environment.id });
        const captured = (line) => srv.log().includes(`session ${session.id} outputs captured: ${line}`);

        const report1 = `first report ${uniq()}\n`;
        const data = randomBytes(48 * 1024);
        srv.provider.reset();
        // No mkdir for the folder itself: it exists when the session's first tool call runs.
        const { out: out1, files: atIdle1 } = await turn(
            session.id,
            `printf '%s' '${report1}' > /mnt/session/outputs/report.txt && mkdir /mnt/session/outputs/sub && ` +
                `base64 -d > /mnt/session/outputs/sub/data.bin <<'EOF'\n${data.toString('base64')}\nEOF\n` +
                `ln -s /etc/hostname /mnt/session/outputs/link && truncate -s 33M /mnt/session/outputs/big.bin && ` +
                `sha256sum /mnt/session/outputs/sub/data.bin | cut -c1-64`,
        );
        assert.equal(out1.trim(), createHash('sha256').update(data).digest('hex'));

        // Captured before the session reported idle (listed the moment the idle arrived): the two
        // regular files; not the link, not the 33 MiB file.
        let files = atIdle1;
        assert.deepEqual(byName(files), [`data.bin:${data.length}`, `report.txt:${Buffer.byteLength(report1)}`]);
        assert.ok(captured('2 stored, 0 unchanged, 1 skipped'), srv.log());
        for (const f of files) {
            assert.deepEqual(f.scope, { type: 'session', id: session.id });
            assert.equal(f.downloadable, true);
        }
        const first = Object.fromEntries(files.map((f) => [f.filename, f]));
        assert.equal(first['report.txt'].mime_type, 'text/plain');
        assert.deepEqual(await download(first['report.txt'].id), Buffer.from(report1));
        assert.deepEqual(await download(first['data.bin'].id), data);
        // Scoped: another session's list is empty, and the account-wide list holds them too.
        assert.deepEqual(await collect(srv.client.beta.files.list({ scope_id: other.id })), []);
        const all = (await collect(srv.client.beta.files.list())).map((f) => f.id);
        assert.ok(all.includes(first['report.txt'].id) && all.includes(first['data.bin'].id));

        // Second turn: report.txt changes, data.bin does not, new.txt appears.
        const report2 = `second report ${uniq()}\n`;
        ({ files } = await turn(
            session.id,
            `printf '%s' '${report2}' > /mnt/session/outputs/report.txt && echo new > /mnt/session/outputs/new.txt`,
        ));
        assert.deepEqual(byName(files), [
            `data.bin:${data.length}`,
            'new.txt:4',
            `report.txt:${Buffer.byteLength(report1)}`,
            `report.txt:${Buffer.byteLength(report2)}`,
        ].sort());
        assert.ok(captured('2 stored, 1 unchanged, 1 skipped'), srv.log());
        // The earlier version keeps its id and bytes; the new one is a new file.
        const reports = files.filter((f) => f.filename === 'report.txt');
        const newer = reports.find((f) => f.id !== first['report.txt'].id);
        assert.ok(reports.some((f) => f.id === first['report.txt'].id));
        assert.deepEqual(await download(newer.id), Buffer.from(report2));
        assert.equal(files.find((f) => f.filename === 'data.bin').id, first['data.bin'].id);

        // Archiving destroys the VM and its workspace; the captured files stay.
        await srv.client.beta.sessions.archive(session.id);
        assert.ok((await srv.client.beta.sessions.retrieve(session.id)).archived_at);
        const kept = await collect(srv.client.beta.files.list({ scope_id: session.id }));
        assert.deepEqual(kept.map((f) => f.id).sort(), files.map((f) => f.id).sort());
        assert.deepEqual(await download(first['data.bin'].id), data);
        assert.deepEqual(await download(newer.id), Buffer.from(report2));
    });
});
