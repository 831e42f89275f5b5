// Session sandboxes over their lifetime, through the official SDK against a real vivariumd with
// a scripted model provider (all on loopback) and real VMs (TCG without KVM):
//   - the raw sandbox API round trip (create, retrieve, list, processes, files, pause, resume, delete);
//   - a session's /workspace survives an idle pause, a raw pause/resume and a backend restart;
//   - `limited` networking admits an allowed loopback server and refuses a denied one; a vault
//     `environment_variable` credential is only a placeholder in the VM and becomes the secret
//     on its way (plain HTTP) to the allowed server; the VM's disks hold the placeholder, never
//     the secret;
//   - QEMU killed mid-tool: an error tool_result, then a fresh VM on the same workspace;
//   - VMs left behind by a SIGKILLed vivariumd are removed when it starts again.
// Runs under ctest as `sdk_sandbox_lifecycle` (label sandbox) with the sandbox test environment.
// VMs booted: the warm pool's (the raw sandbox and session A), session B's two (limited: cold
// boots), session A's after the restart.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { collect, idles, recordSecret, restartServer, sleep, uniq, userMessage } from '../helpers.mjs';
import { domainPrefix, newSession, okText, PREWARM, sandboxApi, textOf, useSandboxServer, waitSessionEvents } from './sandbox-helpers.mjs';

const SECRET = recordSecret(`viv-lifecycle-secret-${uniq()}${uniq()}`);
const TOKEN_VAR = 'VIV_LIFECYCLE_TOKEN';
const LONG = { timeout: 900_000 };

// ---- loopback HTTP servers the VM reaches through the egress proxy ----------------------------

function startHttp(body) {
    const s = { requests: [], connections: 0, waiters: [] };
    s.server = http.createServer((req, res) => {
        s.requests.push({ method: req.method, url: req.url, headers: req.headers });
        for (const w of s.waiters.splice(0)) w();
        res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
        res.end(body);
    });
    s.server.on('connection', () => ++s.connections);
    s.waitFor = async (pred, timeoutMs) => {
        const deadline = Date.now() + timeoutMs;
        while (!s.requests.some(pred)) {
            if (Date.now() > deadline) throw new Error(`no matching request within ${timeoutMs} ms: ${JSON.stringify(s.requests.map((r) => r.url))}`);
            await new Promise((r) => { s.waiters.push(r); setTimeout(r, 200); });
        }
        return s.requests.find(pred);
    };
    return new Promise((resolve) =>
        s.server.listen(0, '127.0.0.1', () => {
            s.port = s.server.address().port;
            resolve(s);
        }),
    );
}

let allowed;
let denied;
const logs = []; // logs of servers that were stopped or killed (the secret must be in none)

const srv = useSandboxServer({
    environment: null,
    env: async () => {
        allowed = await startHttp('allowed-body\n');
        denied = await startHttp('denied-body\n');
        return {
            ...PREWARM,
            // An idle session's VM is paused 2 s after its turn (the idle-pause path).
            VIVARIUM_SANDBOX_IDLE_PAUSE_S: '2',
        };
    },
});
after(async () => {
    allowed?.server.closeAllConnections();
    denied?.server.closeAllConnections();
    await new Promise((r) => (allowed ? allowed.server.close(r) : r()));
    await new Promise((r) => (denied ? denied.server.close(r) : r()));
});

// ---- raw sandbox API ----------------------------------------------------------------------------

const api = (method, p, body, headers) => sandboxApi(srv, method, p, body, headers);
async function sandboxIds() {
    const r = await api('GET', '/v1/sandboxes');
    assert.equal(r.status, 200, r.text);
    return r.json.data.map((s) => s.sandboxID);
}
async function waitSandboxState(id, state, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    let last;
    while (Date.now() < deadline) {
        last = await api('GET', `/v1/sandboxes/${id}`);
        if (last.status === 200 && last.json.state === state) return last.json;
        await sleep(250);
    }
    throw new Error(`sandbox ${id} did not become ${state}: ${last?.status} ${last?.text}`);
}

// ---- VMs on this host: QEMU processes by libvirt domain name ------------------------------------

/** pid → libvirt domain name of every QEMU process whose domain starts with `prefix`. */
async function qemuProcesses(prefix) {
    const out = new Map();
    for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        let cmdline;
        try {
            cmdline = await readFile(`/proc/${entry}/cmdline`, 'latin1');
        } catch {
            continue; // exited meanwhile
        }
        for (const arg of cmdline.split('\0')) {
            const m = arg.match(/^guest=([^,]+)/);
            if (m && m[1].startsWith(prefix)) out.set(Number(entry), m[1]);
        }
    }
    return out;
}
async function qemuPidOf(sandboxId) {
    const procs = await qemuProcesses(domainPrefix(srv) + sandboxId);
    const pids = [...procs].filter(([, name]) => name === domainPrefix(srv) + sandboxId).map(([pid]) => pid);
    assert.equal(pids.length, 1, `exactly one QEMU process runs domain ${domainPrefix(srv)}${sandboxId}: ${pids}`);
    return pids[0];
}
async function alive(pid, domain) {
    try {
        return (await readFile(`/proc/${pid}/cmdline`, 'latin1')).includes(`guest=${domain}`);
    } catch {
        return false;
    }
}
async function waitGone(pids, domains, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const left = [];
        for (let i = 0; i < pids.length; ++i) if (await alive(pids[i], domains[i])) left.push(pids[i]);
        if (!left.length) return;
        if (Date.now() > deadline) throw new Error(`QEMU processes still running after ${timeoutMs} ms: ${left}`);
        await sleep(250);
    }
}

// ---- disks ----------------------------------------------------------------------------------

const workspaceDisk = (sessionId) => path.join(srv.dataDir, 'sandboxes', 'workspaces', `${sessionId}.qcow2`);
const rootOverlay = (sandboxId) => path.join(srv.dataDir, 'sandboxes', sandboxId, 'root.qcow2');
async function fileContains(file, needle) {
    return (await readFile(file)).indexOf(Buffer.from(needle)) >= 0;
}
/** Regular files under dir (symbolic links are not followed). */
async function filesUnder(dir) {
    const out = [];
    for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) out.push(...(await filesUnder(p)));
        else if (e.isFile()) out.push(p);
    }
    return out;
}
async function filesContaining(dir, needle) {
    const hits = [];
    for (const f of await filesUnder(dir)) {
        try {
            if (await fileContains(f, needle)) hits.push(f);
        } catch (e) {
            if (e.code !== 'ENOENT') throw e; // removed while we looked (a VM going away)
        }
    }
    return hits;
}

// ---- sessions and turns ---------------------------------------------------------------------------

async function allEvents(sessionId) {
    return collect(srv.client.beta.sessions.events.list(sessionId));
}
/**
 * Sends one user message with `replies` queued at the scripted model; `during` runs once the
 * message is accepted. Waits for the turn's session.status_idle and returns its new events.
 */
async function runTurn(sessionId, replies, during) {
    const before = await allEvents(sessionId);
    const seen = new Set(before.map((e) => e.id));
    srv.provider.enqueue(...replies);
    await srv.client.beta.sessions.events.send(sessionId, { events: [userMessage('go on')] });
    if (during) await during();
    const events = (await waitSessionEvents(srv, sessionId, (ev) => idles(ev).length > idles(before).length, 600_000)).filter(
        (e) => !seen.has(e.id),
    );
    assert.deepEqual(idles(events).at(-1).stop_reason, { type: 'end_turn' }, events.map((e) => e.type).join(', '));
    const uses = events.filter((e) => e.type === 'agent.tool_use');
    const results = events.filter((e) => e.type === 'agent.tool_result');
    assert.equal(uses.length, results.length, 'every tool_use got its tool_result');
    return { events, uses, resultOf: (use) => results.find((r) => r.tool_use_id === use.id) };
}
const bash = (command, extra = {}) => ({ name: 'bash', input: { command, ...extra } });

// ================================================================================================

describe('raw sandbox API', () => {
    test('create, retrieve, list, processes, files, pause, resume, delete', LONG, async () => {
        assert.equal((await api('POST', '/v1/sandboxes', { templateID: 'nope' })).status, 400);
        assert.equal((await api('GET', '/v1/sandboxes/sbx_missing')).status, 404);

        const created = await api('POST', '/v1/sandboxes', { templateID: 'base', timeout: 600 });
        assert.equal(created.status, 200, created.text);
        const sbx = created.json;
        assert.match(sbx.sandboxID, /^sbx_/);
        assert.equal(sbx.templateID, 'base');
        assert.equal(sbx.state, 'running');
        assert.ok(Number.isInteger(sbx.bootMs) && sbx.bootMs > 0, `bootMs ${sbx.bootMs}`);
        const ttl = (Date.parse(sbx.endAt) - Date.parse(sbx.startedAt)) / 1000;
        assert.ok(ttl >= 599 && ttl <= 601, `endAt - startedAt = ${ttl} s (timeout 600)`);
        const id = sbx.sandboxID;

        const got = await api('GET', `/v1/sandboxes/${id}`);
        assert.equal(got.status, 200);
        assert.equal(got.json.sandboxID, id);
        assert.equal(got.json.state, 'running');
        assert.deepEqual(await sandboxIds(), [id]);
        // The raw sandbox runs on this host as the libvirt domain the manager named.
        await qemuPidOf(id);

        // A process: argv, env, cwd and stdin in; stdout, stderr and the exit code out.
        let r = await api('POST', `/v1/sandboxes/${id}/processes`, {
            cmd: 'bash',
            args: ['-c', 'read x; echo "in=$x env=$FOO cwd=$(pwd)"; echo oops >&2; exit 3'],
            env: { FOO: 'bar' },
            cwd: '/tmp',
            stdin: 'hello\n',
        });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.stdout, 'in=hello env=bar cwd=/tmp\n');
        assert.equal(r.json.stderr, 'oops\n');
        assert.equal(r.json.exitCode, 3);
        assert.equal(r.json.timedOut, false);
        // The default cwd is the workspace disk.
        r = await api('POST', `/v1/sandboxes/${id}/processes`, { cmd: 'sh', args: ['-c', 'pwd; mountpoint -q /workspace && echo mounted'] });
        assert.equal(r.json.stdout, '/workspace\nmounted\n');
        assert.equal(r.json.exitCode, 0);
        assert.equal((await api('POST', `/v1/sandboxes/${id}/processes`, { cmd: 'true', bogus: 1 })).status, 400);

        // Files: multipart upload (path + file), download, list.
        const blob = Buffer.alloc(70_000);
        for (let i = 0; i < blob.length; ++i) blob[i] = (i * 7) & 0xff;
        const form = new FormData();
        form.append('path', 'data/blob.bin');
        form.append('file', new Blob([blob]), 'blob.bin');
        r = await api('POST', `/v1/sandboxes/${id}/files`, form);
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.json, { path: '/workspace/data/blob.bin', size: blob.length });
        r = await api('GET', `/v1/sandboxes/${id}/files/content?path=data/blob.bin`);
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('content-type'), 'application/octet-stream');
        assert.ok(r.buf.equals(blob), 'downloaded bytes equal the uploaded ones');
        r = await api('GET', `/v1/sandboxes/${id}/files?path=/workspace/data`);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.data.length, 1);
        assert.equal(r.json.data[0].name, 'blob.bin');
        assert.equal(r.json.data[0].type, 'file');
        assert.equal(r.json.data[0].size, blob.length);
        r = await api('POST', `/v1/sandboxes/${id}/processes`, { cmd: 'sha256sum', args: ['data/blob.bin'] });
        assert.equal(r.json.stdout.split(' ')[0], createHash('sha256').update(blob).digest('hex'));
        assert.equal((await api('GET', `/v1/sandboxes/${id}/files/content?path=nope.txt`)).status, 404);

        // Pause: no processes until resumed; the VM and its files are intact afterwards.
        r = await api('POST', `/v1/sandboxes/${id}/pause`);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.state, 'paused');
        assert.equal((await api('GET', `/v1/sandboxes/${id}`)).json.state, 'paused');
        assert.equal((await api('POST', `/v1/sandboxes/${id}/processes`, { cmd: 'true' })).status, 409);
        r = await api('POST', `/v1/sandboxes/${id}/resume`);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.state, 'running');
        r = await api('POST', `/v1/sandboxes/${id}/processes`, { cmd: 'wc', args: ['-c', 'data/blob.bin'] });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.stdout, '70000 data/blob.bin\n');

        // Delete: gone from the API and from the host.
        const pid = await qemuPidOf(id);
        r = await api('DELETE', `/v1/sandboxes/${id}`);
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.json, { sandboxID: id, deleted: true });
        assert.equal((await api('GET', `/v1/sandboxes/${id}`)).status, 404);
        assert.equal((await api('DELETE', `/v1/sandboxes/${id}`)).status, 404);
        assert.deepEqual(await sandboxIds(), []);
        await waitGone([pid], [domainPrefix(srv) + id], 60_000);
        assert.equal(existsSync(path.join(srv.dataDir, 'sandboxes', id)), false, "the sandbox's directory is removed");
    });
});

// Session A (unrestricted, a warm-pool VM): its workspace across pauses and a restart.
const A = { file: 'persist/note.txt', content: `kept ${uniq()}` };

describe('session workspace across pause/resume', () => {
    test('a file written by bash is read back after an idle pause and a raw pause/resume', LONG, async () => {
        const env = await srv.client.beta.environments.create({ name: `lifecycle-open-${uniq()}` });
        A.session = await newSession(srv, 'lifecycle', { environment_id: env.id });
        srv.provider.reset();
        const before = await sandboxIds();
        let t = await runTurn(A.session.id, [
            { tool_calls: [bash(`mkdir -p persist && echo '${A.content}' > ${A.file} && sync && cat /workspace/${A.file}`)] },
            { text: 'written' },
        ]);
        assert.equal(t.uses.length, 1);
        assert.equal(okText(t.resultOf(t.uses[0])), A.content);
        const added = (await sandboxIds()).filter((id) => !before.includes(id));
        assert.equal(added.length, 1, 'the session claimed one VM');
        A.sandbox = added[0];
        assert.ok(existsSync(workspaceDisk(A.session.id)), 'the session has its own workspace disk');

        // Idle → paused (VIVARIUM_SANDBOX_IDLE_PAUSE_S=2).
        await waitSandboxState(A.sandbox, 'paused', 120_000);
        // The raw API resumes and pauses the session's VM like any other.
        let r = await api('POST', `/v1/sandboxes/${A.sandbox}/resume`);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.state, 'running');
        r = await api('POST', `/v1/sandboxes/${A.sandbox}/pause`);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.state, 'paused');
        const pid = await qemuPidOf(A.sandbox);

        // The next tool call resumes the same VM and reads the file back.
        t = await runTurn(A.session.id, [{ tool_calls: [{ name: 'read', input: { file_path: A.file } }] }, { text: 'read' }]);
        assert.equal(okText(t.resultOf(t.uses[0])), `     1\t${A.content}`);
        assert.ok((await sandboxIds()).includes(A.sandbox), 'still the same VM');
        assert.equal(await qemuPidOf(A.sandbox), pid, 'the same QEMU process');
    });
});

// Session B (limited networking + a vault environment_variable credential).
const B = {};

describe('limited networking and credential placeholders', () => {
    test('allowed host reached, denied host refused, placeholder in the VM, secret at the server', LONG, async () => {
        const env = await srv.client.beta.environments.create({
            name: `lifecycle-limited-${uniq()}`,
            config: { type: 'cloud', networking: { type: 'limited', allowed_hosts: [`127.0.0.1:${allowed.port}`] } },
        });
        assert.deepEqual(env.config.networking.allowed_hosts, [`127.0.0.1:${allowed.port}`]);
        const vault = await srv.client.beta.vaults.create({ display_name: `lifecycle-${uniq()}` });
        await srv.client.beta.vaults.credentials.create(vault.id, {
            display_name: 'loopback token',
            auth: {
                type: 'environment_variable',
                secret_name: TOKEN_VAR,
                secret_value: SECRET,
                networking: { type: 'limited', allowed_hosts: ['127.0.0.1'] },
                injection_location: { header: true },
            },
        });
        B.session = await newSession(srv, 'lifecycle', { environment_id: env.id, vault_ids: [vault.id] });
        srv.provider.reset();
        const before = await sandboxIds();
        const curl = `curl -sS -m 60 --noproxy ''`;
        const t = await runTurn(B.session.id, [
            {
                tool_calls: [
                    bash(`ls /sys/class/net; ${curl} http://127.0.0.1:${allowed.port}/hello`),
                    bash(`${curl} -i http://127.0.0.1:${denied.port}/`),
                    bash(`printenv ${TOKEN_VAR} | tee /workspace/placeholder.txt /var/tmp/placeholder.txt`),
                    bash(`${curl} -H "X-Api-Key: $${TOKEN_VAR}" http://127.0.0.1:${allowed.port}/key`),
                    bash(`echo survives-the-crash > /workspace/keep.txt; sync`),
                ],
            },
            { text: 'networking checked' },
        ]);
        assert.equal(t.uses.length, 5);
        const [net, deny, env1, key, keep] = t.uses.map((u) => t.resultOf(u));

        // No NIC but loopback; the allowed server answers through the egress proxy.
        assert.equal(okText(net), 'lo\nallowed-body');
        assert.ok(allowed.requests.some((q) => q.url === '/hello'), 'the allowed server got the request');
        // The denied server: the proxy answers 403 itself, the server never sees a connection.
        const refused = okText(deny);
        assert.match(refused, /^HTTP\/1\.1 403/);
        assert.match(refused, /X-Vivarium-Proxy: refused/i);
        assert.doesNotMatch(refused, /denied-body/);
        assert.equal(denied.connections, 0);

        // In the VM the variable holds a placeholder, never the secret.
        B.placeholder = okText(env1).trim();
        assert.match(B.placeholder, /^vivarium-placeholder-\S+$/);
        assert.ok(!B.placeholder.includes(SECRET));
        // Sent as a header over plain HTTP to a credential host, it arrives as the secret.
        assert.equal(okText(key), 'allowed-body');
        const keyReq = allowed.requests.find((q) => q.url === '/key');
        assert.ok(keyReq, 'the allowed server got /key');
        assert.equal(keyReq.headers['x-api-key'], SECRET);
        assert.equal(okText(keep), '(no output)');
        // The model saw the placeholder only.
        const toModel = JSON.stringify(srv.provider.requests.map((q) => q.body));
        assert.ok(toModel.includes(B.placeholder));
        assert.ok(!toModel.includes(SECRET), 'the secret never reaches the model');

        const added = (await sandboxIds()).filter((id) => !before.includes(id));
        assert.equal(added.length, 1, 'the session claimed one VM');
        B.sandbox = added[0];
        const info = (await api('GET', `/v1/sandboxes/${B.sandbox}`)).json;
        assert.equal(info.fromWarmPool, false, 'a limited session boots its own VM (warm VMs have a NIC)');
    });

    test("the session VM's disks hold the placeholder, never the secret (while it runs)", LONG, async () => {
        const ws = workspaceDisk(B.session.id);
        const root = rootOverlay(B.sandbox);
        assert.ok((await api('GET', `/v1/sandboxes/${B.sandbox}`)).status === 200, 'the VM is still there');
        assert.ok(await fileContains(ws, B.placeholder), `the placeholder written by the tool is in ${ws}`);
        assert.ok(await fileContains(root, B.placeholder), `the placeholder written by the tool is in ${root}`);
        assert.equal(await fileContains(ws, SECRET), false, `the secret is not in ${ws}`);
        assert.equal(await fileContains(root, SECRET), false, `the secret is not in ${root}`);
        assert.deepEqual(await filesContaining(path.join(srv.dataDir, 'sandboxes'), SECRET), []);
    });

    test('QEMU killed mid-tool: an error tool_result, then a fresh VM with the same workspace', LONG, async () => {
        srv.provider.reset();
        const pid = await qemuPidOf(B.sandbox);
        const oldRoot = rootOverlay(B.sandbox);
        const t = await runTurn(
            B.session.id,
            [
                { tool_calls: [bash(`curl -sS -m 60 --noproxy '' http://127.0.0.1:${allowed.port}/started; sleep 30; echo late`, { timeout_ms: 300_000 })] },
                { tool_calls: [bash(`cat /workspace/keep.txt /workspace/placeholder.txt; printenv ${TOKEN_VAR}`)] },
                { text: 'recovered' },
            ],
            async () => {
                // The command runs in the VM once the allowed server sees /started: kill QEMU then.
                await allowed.waitFor((q) => q.url === '/started', 300_000);
                await sleep(500);
                assert.ok(await alive(pid, domainPrefix(srv) + B.sandbox));
                process.kill(pid, 'SIGKILL');
            },
        );
        assert.equal(t.uses.length, 2);
        const crashed = t.resultOf(t.uses[0]);
        assert.equal(crashed.is_error, true);
        assert.match(textOf(crashed), /went away/);
        assert.doesNotMatch(textOf(crashed), /late/);
        // The next call: a fresh VM (a new placeholder) on the same workspace disk.
        const lines = okText(t.resultOf(t.uses[1])).split('\n');
        assert.equal(lines[0], 'survives-the-crash');
        assert.equal(lines[1], B.placeholder);
        assert.match(lines[2], /^vivarium-placeholder-\S+$/);
        assert.notEqual(lines[2], B.placeholder, 'a fresh VM gets a fresh placeholder');
        const ids = await sandboxIds();
        assert.ok(!ids.includes(B.sandbox), 'the dead VM is gone');
        assert.equal((await api('GET', `/v1/sandboxes/${B.sandbox}`)).status, 404);
        const fresh = ids.filter((id) => id !== A.sandbox);
        assert.equal(fresh.length, 1, `one new VM for the session: ${ids}`);
        await qemuPidOf(fresh[0]);

        // After the VM ran: its root overlay went with it; the workspace and every other file
        // under sandboxes/ still holds no secret.
        assert.equal(existsSync(oldRoot), false, `${oldRoot} was removed with its VM`);
        assert.ok(await fileContains(workspaceDisk(B.session.id), B.placeholder));
        assert.deepEqual(await filesContaining(path.join(srv.dataDir, 'sandboxes'), SECRET), []);
        B.sandbox = fresh[0];
    });
});

describe('backend restarts', () => {
    test("a session's workspace survives a backend restart", LONG, async () => {
        const domains = [domainPrefix(srv) + A.sandbox, domainPrefix(srv) + B.sandbox];
        const pids = [await qemuPidOf(A.sandbox), await qemuPidOf(B.sandbox)];
        logs.push(srv.log());
        // A graceful stop (SIGTERM) destroys every VM of the server and keeps the workspace disks.
        assert.deepEqual(await srv.stop({ keepDataDir: true, graceMs: 120_000 }), { code: 0, signal: null });
        await waitGone(pids, domains, 15_000);
        assert.equal((await qemuProcesses(domainPrefix(srv))).size, 0, 'no VM outlives a graceful stop');
        assert.ok(existsSync(workspaceDisk(A.session.id)));
        assert.ok(existsSync(workspaceDisk(B.session.id)));
        // Idle pause off from now on: the next test needs a VM left running.
        await restartServer(srv, { env: { ...srv.serverEnv, VIVARIUM_SANDBOX_PREWARM: '0', VIVARIUM_SANDBOX_IDLE_PAUSE_S: '0' } });
        assert.deepEqual(await sandboxIds(), []);

        srv.provider.reset();
        const t = await runTurn(A.session.id, [{ tool_calls: [bash(`cat ${A.file}`)] }, { text: 'still there' }]);
        assert.equal(okText(t.resultOf(t.uses[0])), A.content);
        const ids = await sandboxIds();
        assert.equal(ids.length, 1);
        assert.notEqual(ids[0], A.sandbox, 'a new VM after the restart');
        A.sandbox = ids[0];
        assert.equal((await api('GET', `/v1/sandboxes/${A.sandbox}`)).json.fromWarmPool, false);
    });

    test('VMs left running by a SIGKILLed vivariumd are removed when it starts again', LONG, async () => {
        // Session A's VM runs (idle pause is off on this server).
        assert.equal((await api('GET', `/v1/sandboxes/${A.sandbox}`)).json.state, 'running');
        const domain = domainPrefix(srv) + A.sandbox;
        const pid = await qemuPidOf(A.sandbox);
        const oldPid = srv.pid;
        logs.push(srv.log());
        await srv.kill9();
        assert.equal(existsSync(`/proc/${oldPid}`), false, 'vivariumd is gone');
        await sleep(1000);
        assert.ok(await alive(pid, domain), 'its VM outlived it (an orphan)');
        const orphans = await qemuProcesses(domainPrefix(srv));
        assert.ok(orphans.size >= 1);

        await restartServer(srv, { env: { ...srv.serverEnv, VIVARIUM_SANDBOX_PREWARM: '0' } });
        await waitGone([...orphans.keys()], [...orphans.values()], 120_000);
        // It was the start-up sweep that removed them (its libvirt calls return after the
        // processes have gone).
        const deadline = Date.now() + 60_000;
        while (!/removed \d+ orphaned sandbox VM/.test(srv.log()) && Date.now() < deadline) await sleep(200);
        assert.match(srv.log(), new RegExp(`removed ${orphans.size} orphaned sandbox VM\\(s\\) of a previous run`));
        assert.equal((await qemuProcesses(domainPrefix(srv))).size, 0, 'no VM of this data directory is left');
        assert.deepEqual(await sandboxIds(), []);
        assert.equal((await api('GET', `/v1/sandboxes/${A.sandbox}`)).status, 404);
        assert.ok(existsSync(workspaceDisk(A.session.id)), 'the workspace disk is kept');
        assert.equal(existsSync(path.join(srv.dataDir, 'sandboxes', A.sandbox)), false, "the orphan's directory is removed");
    });

    test('the secret is in no file of the data directory and in no server log', LONG, async () => {
        assert.deepEqual(await filesContaining(srv.dataDir, SECRET), []);
        for (const log of [...logs, srv.log()]) assert.ok(!log.includes(SECRET));
        const st = await lstat(workspaceDisk(B.session.id));
        assert.ok(st.isFile() && st.size > 0);
        assert.ok(await fileContains(workspaceDisk(B.session.id), B.placeholder));
    });
});
