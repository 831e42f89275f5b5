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
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { startScriptedProvider } from '../../provider/scripted-provider.mjs';
import { collect, recordSecret, restartServer, sleep, uniq, useServer, userMessage } from '../helpers.mjs';

const ANTHROPIC_KEY = recordSecret(`sk-ant-scripted-${uniq()}${uniq()}`);
const run = promisify(execFile);

let provider;
let env;
let serverEnv;
const srv = useServer(
    async (ctx) => {
        env = await ctx.client.beta.environments.create({ name: `memdurable-vm-${uniq()}` });
    },
    async () => {
        provider = await startScriptedProvider();
        serverEnv = {
            ANTHROPIC_BASE_URL: provider.url,
            ANTHROPIC_API_KEY: ANTHROPIC_KEY,
            VIVARIUM_SANDBOX_PREWARM: '0',
            VIVARIUM_WARM_POOL: '0',
            // The VM keeps running between turns (no idle pause).
            VIVARIUM_SANDBOX_IDLE_PAUSE_S: '0',
        };
        return { env: serverEnv };
    },
);
after(async () => provider?.close());

// SandboxManager's libvirt connection (SandboxConfig) and domain names: vivarium-<tag>-<sandbox
// id>, tag = sha256(data dir)[:8].
const LIBVIRT_URI = process.env.VIVARIUM_LIBVIRT_URI || (process.getuid() === 0 ? 'qemu:///system' : 'qemu:///session');
const domainPrefix = () => `vivarium-${createHash('sha256').update(path.resolve(srv.dataDir)).digest('hex').slice(0, 8)}-`;
async function runningDomains() {
    const { stdout } = await run('virsh', ['-c', LIBVIRT_URI, 'list', '--name']);
    return stdout.split('\n').map((s) => s.trim()).filter((s) => s.startsWith(domainPrefix()));
}

async function waitFor(what, pred, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await pred();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(200);
    }
}
const eventsOf = async (sessionId) => collect(srv.client.beta.sessions.events.list(sessionId));
const textOf = (result) => result.content.map((c) => c.text ?? '').join('');

describe('memory durability', () => {
    test('an acknowledged memory write survives a VM kill and a backend SIGKILL + restart', async () => {
        const ms = srv.client.beta.memoryStores;
        const store = await ms.create({ name: `durable-${uniq()}`, description: 'Must not be lost.' });
        const agent = await srv.client.beta.agents.create({
            name: `memdurable-${uniq()}`,
            model: 'claude-sonnet-4-6',
            tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_allow' } } }],
        });
        const session = await srv.client.beta.sessions.create({
            agent: agent.id,
            environment_id: env.id,
            resources: [{ type: 'memory_store', memory_store_id: store.id }],
        });
        const mount = session.resources.find((r) => r.type === 'memory_store').mount_path;

        // Turn 1: the agent writes a memory.
        const content = `remember ${uniq()}${uniq()}\n`;
        provider.reset();
        provider.enqueue(
            { tool_calls: [{ name: 'bash', input: { command: `printf '%s' '${content}' > '${mount}/durable.md' && echo ok` } }] },
            { text: 'Remembered.' },
        );
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('remember this')] });
        const turn1 = await waitFor(
            'the first turn to end',
            async () => {
                const ev = await eventsOf(session.id);
                return ev.some((e) => e.type === 'session.status_idle') ? ev : null;
            },
            600_000,
        );
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
        provider.enqueue(
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
        await waitFor('the second tool call', async () => (await eventsOf(session.id)).filter((e) => e.type === 'agent.tool_use').length === 2, 300_000);
        // The command runs in the VM once its write reached the workspace disk (after `sync`).
        const workspaceDisk = path.join(srv.dataDir, 'sandboxes', 'workspaces', `${session.id}.qcow2`);
        await waitFor('the pending write on the workspace disk', async () => (await readFile(workspaceDisk)).includes(Buffer.from(pending)), 120_000);
        await sleep(500);
        assert.equal((await srv.client.beta.sessions.retrieve(session.id)).status, 'running');
        await run('virsh', ['-c', LIBVIRT_URI, 'destroy', domains[0]]);
        const crashed = await waitFor(
            'the tool call to fail with its VM',
            async () => (await eventsOf(session.id)).filter((e) => e.type === 'agent.tool_result')[1],
            120_000,
        );
        assert.equal(crashed.is_error, true, textOf(crashed));
        assert.deepEqual(await runningDomains(), []);

        // The backend is killed (no shutdown) and started again on the same data directory.
        await srv.kill9();
        await restartServer(srv, { env: serverEnv });

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
