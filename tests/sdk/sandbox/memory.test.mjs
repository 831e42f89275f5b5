// Memory stores mounted in a real session VM through the official SDK (issue 14 item 5): a
// `memory_store` resource is mounted at /mnt/memory/<store name>/ with the store's memories as
// files; the system prompt the scripted model receives names the mount, its access and the
// attachment's instructions; files the agent creates, edits or deletes with `bash` become memory
// versions with `session_actor` before the session reports idle (listed the moment
// session.status_idle arrives on the stream, without polling); a file over the 100 KB limit is
// not saved and the session gets a session.error naming its path, before that idle; a read_only store refuses writes
// in the file system (EROFS) and its memories stay untouched.
// Runs under ctest as `sdk_sandbox_memory` (label sandbox) with the sandbox test environment.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { collect, readStreamUntil, sleep, uniq, userMessage } from '../helpers.mjs';
import { newSession, PREWARM, systemPrompt, useSandboxServer } from './sandbox-helpers.mjs';

const srv = useSandboxServer({ environment: 'memory-vm', env: PREWARM });

// One scripted turn (a bash call, then "Done."), read on the event stream up to its
// session.status_idle; `atIdle` runs the moment that idle arrives — no polling, no waiting: what
// the turn wrote must already be listed then (the runtime settles memory before it reports idle).
async function turn(sessionId, command, atIdle = async () => undefined) {
    srv.provider.enqueue({ tool_calls: [{ name: 'bash', input: { command } }] }, { text: 'Done.' });
    const stream = await srv.client.beta.sessions.events.stream(sessionId);
    const sent = await srv.client.beta.sessions.events.send(sessionId, { events: [userMessage('use your memory')] });
    let mine = false;
    const seen = await readStreamUntil(
        stream,
        (e) => (mine ||= e.id === sent.data[0].id) && e.type === 'session.status_idle',
        300_000,
    );
    assert.equal(seen.at(-1)?.type, 'session.status_idle', `no idle on the stream: ${seen.map((e) => e.type).join(', ')}`);
    const settled = await atIdle();
    const events = await collect(srv.client.beta.sessions.events.list(sessionId));
    const results = events.filter((e) => e.type === 'agent.tool_result');
    const last = results[results.length - 1];
    assert.notEqual(last.is_error, true, JSON.stringify(last.content));
    return { out: last.content[0].text, events, seen, settled };
}

const paths = async (storeId) =>
    (await collect(srv.client.beta.memoryStores.memories.list(storeId))).map((m) => m.path).sort();

describe('memory stores in sessions', () => {
    test('mounted, described in the system prompt, synced back as session_actor versions, read_only enforced', async () => {
        const ms = srv.client.beta.memoryStores;
        const notes = await ms.create({ name: `notes ${uniq()}`, description: 'What the user prefers.' });
        const ref = await ms.create({ name: 'reference', description: 'Read-only facts.' });
        await ms.memories.create(notes.id, { path: '/prefs.md', content: 'likes tea\n' });
        await ms.memories.create(notes.id, { path: '/old/gone.md', content: 'to delete\n' });
        await ms.memories.create(ref.id, { path: '/facts.md', content: 'water boils at 100 C\n' });
        const session = await newSession(srv, 'memory-vm', {
            resources: [
                { type: 'memory_store', memory_store_id: notes.id, instructions: 'Keep preferences short.' },
                { type: 'memory_store', memory_store_id: ref.id, access: 'read_only' },
            ],
        });
        const mounted = session.resources.filter((r) => r.type === 'memory_store');
        const notesMount = mounted.find((r) => r.memory_store_id === notes.id);
        const refMount = mounted.find((r) => r.memory_store_id === ref.id);
        assert.equal(notesMount.mount_path, `/mnt/memory/${notes.name.replace(' ', '-')}`);
        assert.equal(notesMount.access, 'read_write');
        assert.equal(notesMount.name, notes.name);
        assert.equal(notesMount.description, 'What the user prefers.');
        assert.equal(notesMount.instructions, 'Keep preferences short.');
        assert.equal(refMount.mount_path, '/mnt/memory/reference');
        assert.equal(refMount.access, 'read_only');

        srv.provider.reset();
        const { out, seen, settled } = await turn(
            session.id,
            `N='${notesMount.mount_path}'; cat "$N/prefs.md" /mnt/memory/reference/facts.md; ` +
                `printf 'likes green tea\\n' > "$N/prefs.md" && mkdir -p "$N/topics" && printf 'hello\\n' > "$N/topics/new.md" && ` +
                `rm "$N/old/gone.md" && head -c 102401 /dev/zero | tr '\\0' x > "$N/big.md"; ` +
                `{ echo x > /mnt/memory/reference/facts.md; } 2>&1 | grep -c 'Read-only file system'; ` +
                `touch /mnt/memory/reference/other.md 2>&1 | grep -c 'Read-only file system'`,
            // At the idle, at once: the memories and their versions as the turn left them.
            async () => ({
                paths: await paths(notes.id),
                versions: await collect(ms.memoryVersions.list(notes.id, { session_id: session.id })),
            }),
        );
        // Both writes into the read_only store fail with EROFS.
        assert.equal(out.trim(), 'likes tea\nwater boils at 100 C\n1\n1');

        // The system prompt named both mounts, their access and the instructions.
        const text = systemPrompt(srv.provider.requests[0]);
        assert.ok(text.includes(`${notesMount.mount_path} (read-write)`), text);
        assert.ok(text.includes('/mnt/memory/reference (read-only)'), text);
        assert.ok(text.includes('Keep preferences short.'), text);
        assert.ok(text.includes('What the user prefers.'), text);

        // Synced BEFORE the idle: the edit, the new file and the deletion, as the session, listed
        // the moment session.status_idle arrived.
        assert.deepEqual(settled.paths, ['/prefs.md', '/topics/new.md']);
        const versions = settled.versions;
        assert.deepEqual(versions.map((v) => v.operation).sort(), ['created', 'deleted', 'modified']);
        assert.ok(srv.log().includes(`session ${session.id} memory synced: 2 written, 1 removed, 1 refused`), srv.log());
        for (const v of versions) assert.deepEqual(v.created_by, { type: 'session_actor', session_id: session.id });
        const prefs = (await collect(ms.memories.list(notes.id, { view: 'full' }))).find((m) => m.path === '/prefs.md');
        assert.equal(prefs.content, 'likes green tea\n');
        // The oversized file: not saved, and a session.error names it — on the stream before the idle.
        const errors = seen.filter((e) => e.type === 'session.error');
        assert.equal(errors.length, 1, JSON.stringify(seen));
        assert.ok(errors[0].error.message.includes(`${notesMount.mount_path}/big.md`), errors[0].error.message);
        const all = await collect(srv.client.beta.sessions.events.list(session.id));
        assert.equal(all.filter((e) => e.type === 'session.error').length, 1);
        // The read_only store is untouched.
        assert.deepEqual(await paths(ref.id), ['/facts.md']);
        assert.equal((await collect(ms.memoryVersions.list(ref.id))).length, 1);

        // A second turn that changes nothing new writes no version (the baseline holds).
        await turn(session.id, `cat '${notesMount.mount_path}/topics/new.md'`);
        await sleep(2000);
        assert.equal((await collect(ms.memoryVersions.list(notes.id, { session_id: session.id }))).length, 3);
        await srv.client.beta.sessions.archive(session.id);
    });
});
