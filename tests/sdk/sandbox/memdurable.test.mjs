// Durability of a memory the agent writes in its VM (issue 14 item 5), through the official SDK.
//
// The guarantee (docs/DESIGN.md, "Memory in sessions"): a file the agent writes under a
// read_write memory mount is acknowledged when the end-of-turn sync (before the session reports
// idle) has committed it as a memory version with `session_actor` — the moment a client can
// list that version, at the latest when it sees the turn's session.status_idle. From then on it survives anything that happens to the VM or the
// backend. This test puts the kill exactly after that point: the version is listed, the next turn
// is running a tool in the same VM, the VM is destroyed through libvirt (virsh destroy, no
// shutdown), then vivariumd is killed with SIGKILL and started again on the same data directory;
// the version, the memory and their content are still there, unchanged, and no version was
// lost or added. A second write, made in the killed turn (so never acknowledged), is no version
// but is still on the session's workspace disk, where the next idle with a VM syncs it from.
// One VM (no warm pool).
// Runs under ctest as `sdk_sandbox_memory_durability` (label sandbox) with the sandbox test environment.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

import { collect, ofType, restartServer, sleep, uniq, userMessage, waitFor } from '../helpers.mjs';
import { domainPrefix, newSession, ONE_VM, textOf, useSandboxServer, waitIdles, waitSessionEvents } from './sandbox-helpers.mjs';

const run = promisify(execFile);

const srv = useSandboxServer({
    environment: 'memdurable-vm',
    // The VM keeps running between turns (no idle pause).
    env: { ...ONE_VM, VIVARIUM_SANDBOX_IDLE_PAUSE_S: '0' },
});

// SandboxManager's libvirt connection (SandboxConfig); its domains' names start with domainPrefix(srv).
const LIBVIRT_URI = process.env.VIVARIUM_LIBVIRT_URI || (process.getuid() === 0 ? 'qemu:///system' : 'qemu:///session');
async function runningDomains() {
    const { stdout } = await run('virsh', ['-c', LIBVIRT_URI, 'list', '--name']);
    return stdout.split('\n').map((s) => s.trim()).filter((s) => s.startsWith(domainPrefix(srv)));
}

describe('memory durability', () => {
    test('an acknowledged memory write survives a VM kill and a backend SIGKILL + restart', async () => {
        const ms = srv.client.beta.memoryStores;
        const store = await ms.create({ name: `durable-${uniq()}`, description: 'Must not be lost.' });
        const session = await newSession(srv, 'memdurable', {
            resources: [{ type: 'memory_store', memory_store_id: store.id }],
        });
        const mount = session.resources.find((r) => r.type === 'memory_store').mount_path;

        // Turn 1: the agent writes a memory.
        const content = `remember ${uniq()}${uniq()}\n`;
        srv.provider.reset();
        srv.provider.enqueue(
            { tool_calls: [{ name: 'bash', input: { command: `printf '%s' '${content}' > '${mount}/durable.md' && echo ok` } }] },
            { text: 'Remembered.' },
        );
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('remember this')] });
        const turn1 = await waitIdles(srv, session.id, 1, 600_000);
        const result1 = turn1.find((e) => e.type === 'agent.tool_result');
        assert.notEqual(result1.is_error, true, textOf(result1));
        assert.equal(textOf(result1).trim(), 'ok');

        // The acknowledgement: the version made by the turn's end-of-turn sync is listed as soon
        // as the turn's idle is seen (the runtime syncs before it reports idle; no waiting).
        const acks = await collect(ms.memoryVersions.list(store.id, { session_id: session.id }));
        assert.equal(acks.length, 1, JSON.stringify(acks));
        const [ack] = acks;
        assert.deepEqual(ack.created_by, { type: 'session_actor', session_id: session.id });
        assert.equal(ack.operation, 'created');
        const acked = await ms.memoryVersions.retrieve(ack.id, { memory_store_id: store.id });
        assert.equal(acked.path, '/durable.md');
        assert.equal(acked.content, content);
        assert.equal(acked.content_sha256, createHash('sha256').update(content).digest('hex'));
        const [memory] = await collect(ms.memories.list(store.id));
        assert.equal(memory.path, '/durable.md');

        // Turn 2, mid-tool: the session's one VM is destroyed through libvirt.
        const domains = await runningDomains();
        assert.equal(domains.length, 1, `one VM: ${domains}`);
        // The turn writes one more memory first (flushed to the workspace disk by `sync`): it is
        // not acknowledged (no end-of-turn sync will run with a VM), so it must not be a version
        // yet, but it must still be on the workspace disk for the next idle with a VM.
        const pending = `pending ${uniq()}${uniq()}\n`;
        srv.provider.enqueue(
            {
                tool_calls: [
                    {
                        name: 'bash',
                        input: { command: `printf '%s' '${pending}' > '${mount}/pending.md' && sync && echo busy; sleep 300`, timeout_ms: 600_000 },
                    },
                ],
            },
            { text: 'The sandbox went away.' },
        );
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('keep working')] });
        await waitSessionEvents(srv, session.id, (ev) => ev.filter((e) => e.type === 'agent.tool_use').length === 2, 300_000);
        // The command runs in the VM once its write reached the workspace disk (after `sync`).
        const workspaceDisk = path.join(srv.dataDir, 'sandboxes', 'workspaces', `${session.id}.qcow2`);
        await waitFor('the pending write on the workspace disk', async () => (await readFile(workspaceDisk)).includes(Buffer.from(pending)), 120_000);
        await sleep(500);
        assert.equal((await srv.client.beta.sessions.retrieve(session.id)).status, 'running');
        await run('virsh', ['-c', LIBVIRT_URI, 'destroy', domains[0]]);
        // The tool call fails with its VM.
        const afterCrash = await waitSessionEvents(srv, session.id, (ev) => ofType(ev, 'agent.tool_result').length >= 2, 120_000);
        const crashed = ofType(afterCrash, 'agent.tool_result')[1];
        assert.equal(crashed.is_error, true, textOf(crashed));
        assert.deepEqual(await runningDomains(), []);

        // The backend is killed (no shutdown) and started again on the same data directory.
        await srv.kill9();
        await restartServer(srv, { env: srv.serverEnv });

        // The acknowledged write is all there: the version, unchanged, and the memory's content.
        const ms2 = srv.client.beta.memoryStores; // the restarted server's client
        assert.deepEqual(await ms2.memoryVersions.retrieve(ack.id, { memory_store_id: store.id }), acked);
        const versions = await collect(ms2.memoryVersions.list(store.id));
        assert.deepEqual(versions.map((v) => v.id), [ack.id]);
        const after = await ms2.memories.retrieve(memory.id, { memory_store_id: store.id });
        assert.equal(after.path, '/durable.md');
        assert.equal(after.content, content);
        assert.equal(after.content_sha256, acked.content_sha256);
        // The unacknowledged write: no version, and its bytes kept on the session's workspace disk.
        assert.deepEqual((await collect(ms2.memories.list(store.id))).map((m) => m.path), ['/durable.md']);
        assert.ok((await readFile(workspaceDisk)).includes(Buffer.from(pending)), 'the unsynced memory file is still on the workspace disk');
    });
});
