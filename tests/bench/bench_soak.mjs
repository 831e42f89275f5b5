// Soak benchmark (issue 17, deliverable 5): mixed load against ONE vivariumd for a set time,
// watching its memory and descriptors for growth and counting every error.
//
// The load (all through the official SDK from tests/sdk/node_modules, the server started by
// tests/sdk/helpers.mjs, the model replaced by tests/provider/scripted-provider.mjs, which
// answers each request from the conversation it is sent):
//   - tool sessions (SOAK_VM_WORKERS, default 1): a session of an agent with the built-in
//     toolset; two turns, each `bash` → `write` → `read` → text, run in the session's VM
//     (warm pool on); every agent.tool_result is checked against what the guest must print;
//     then the session is archived and deleted (or deleted at once);
//   - race sessions (SOAK_RACE_WORKERS, default 1): the same tool turn, archived or deleted at a
//     random moment while it runs (archive must end it: idle or error+idle, never 5xx);
//     so at most SOAK_VM_WORKERS + SOAK_RACE_WORKERS (2) sessions hold a VM at once;
//   - text sessions (SOAK_TEXT_WORKERS, default 2): three streamed text turns, no VM;
//   - on every session, SSE subscribers (SOAK_SUBSCRIBERS, default 2) that drop the connection
//     after a random 1–4 events and reconnect with `Last-Event-ID`; at the end each one's event
//     ids must equal GET …/events exactly: nothing missed, nothing twice, same order;
//   - files (1 worker): upload 1 KiB–1 MiB, retrieve, list, download (bytes compared), delete,
//     then retrieve → 404;
//   - steady list/retrieve traffic (1 worker, ~10/s): sessions, agents, environments, files,
//     events of live sessions.
// Measured: vivariumd's VmRSS (/proc/PID/status) and open descriptors (/proc/PID/fd) at the
// start (after a warm-up, with the load drained), every SOAK_SAMPLE_SECONDS under load, and at
// the end (load drained again, all its sessions and files deleted, so start and end compare
// like with like); ops and p50/p99 latency per operation kind; errors by kind (5xx, unexpected
// 4xx, network errors, lost/duplicate/reordered SSE events, wrong tool output, turns that never
// end, a vivariumd that exits).
//
// Fails (exit 1) on any error, or when end − start exceeds the bounds:
//   RSS  +SOAK_MAX_RSS_GROWTH_MIB (default 64 MiB)   descriptors  +SOAK_MAX_FD_GROWTH (default 32)
// Latencies are reported, not asserted.
//
// usage: node tests/bench/bench_soak.mjs [path/to/vivariumd]
//   VIVARIUM_SOAK_MINUTES (default VIVARIUM_SOAK_DEFAULT_MINUTES, which ctest sets to 2, else 30)
//   SOAK_WARMUP_SECONDS (default 60; at least one cycle
//   of every worker)   VIVARIUMD (binary, also argv[2])   and the sandbox test environment
//   (VIVARIUM_IMAGE_DIR, VIVARIUM_GUEST_RECIPE_DIR, VIVARIUM_WARM_POOL, VIVARIUM_SANDBOX_ACCEL).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

if (process.argv[2]) process.env.VIVARIUMD = process.argv[2];
const { startServer, collect, recordSecret, sleep, toFile, uniq, userMessage } = await import('../sdk/helpers.mjs');
const { startScriptedProvider } = await import('../provider/scripted-provider.mjs');

const num = (name, dflt) => (process.env[name] !== undefined && process.env[name] !== '' ? Number(process.env[name]) : dflt);
const MINUTES = num('VIVARIUM_SOAK_MINUTES', num('VIVARIUM_SOAK_DEFAULT_MINUTES', 30));
const WARMUP_S = num('SOAK_WARMUP_SECONDS', 60);
const SAMPLE_S = num('SOAK_SAMPLE_SECONDS', 60);
const MAX_RSS_MIB = num('SOAK_MAX_RSS_GROWTH_MIB', 64);
const MAX_FDS = num('SOAK_MAX_FD_GROWTH', 32);
const VM_WORKERS = num('SOAK_VM_WORKERS', 1);
const RACE_WORKERS = num('SOAK_RACE_WORKERS', 1);
const TEXT_WORKERS = num('SOAK_TEXT_WORKERS', 2);
const SUBSCRIBERS = num('SOAK_SUBSCRIBERS', 2);
const TURN_TIMEOUT_MS = num('SOAK_TURN_TIMEOUT_SECONDS', 300) * 1000;
for (const [k, v] of Object.entries({ MINUTES, WARMUP_S, SAMPLE_S, MAX_RSS_MIB, MAX_FDS, VM_WORKERS, RACE_WORKERS, TEXT_WORKERS, SUBSCRIBERS }))
    if (!Number.isFinite(v) || v < 0) {
        console.log(`bench_soak: FAILED to run (bad setting ${k}=${v})`);
        process.exit(1);
    }

// ---------------------------------------------------------------------------------------------
// Figures
const latencies = new Map(); // op kind → [ms]
const errors = new Map(); // error kind → count
const errorSamples = new Map(); // error kind → first message
const expected = new Map(); // expected non-2xx outcomes (e.g. 404 after delete) → count
let phase = 'warm-up';
function error(kind, detail) {
    errors.set(kind, (errors.get(kind) ?? 0) + 1);
    if (!errorSamples.has(kind)) {
        errorSamples.set(kind, `${phase}: ${String(detail).slice(0, 400)}`);
        console.log(`bench_soak: first error of its kind: ${kind}: ${errorSamples.get(kind)}`);
    }
}
function note(map, kind) { map.set(kind, (map.get(kind) ?? 0) + 1); }

/**
 * Runs one API call as operation `kind`, timing it. An HTTP status listed in `ok` (e.g. 404 on a
 * session that a racing delete removed) is an expected outcome, returned as {status}; any other
 * failure is counted as an error and returned as {failed: true}.
 */
async function op(kind, fn, ok = []) {
    const t0 = performance.now();
    try {
        const value = await fn();
        const ms = performance.now() - t0;
        if (!latencies.has(kind)) latencies.set(kind, []);
        latencies.get(kind).push(ms);
        return { value };
    } catch (e) {
        const status = e?.status;
        // `ok` may be a function: whether a racing delete makes a 404 expected is known only now.
        if (status !== undefined && (typeof ok === 'function' ? ok() : ok).includes(status)) {
            note(expected, `${kind} → ${status}`);
            return { status };
        }
        if (typeof status === 'number') error(status >= 500 ? `HTTP ${status} (${kind})` : `unexpected HTTP ${status} (${kind})`, e.message);
        else {
            // The SDK's "Connection error." says nothing; its cause names the socket's fate.
            const cause = e?.cause ? ` (cause: ${e.cause.code ?? ''} ${e.cause.message ?? e.cause}${e.cause.cause ? ` / ${e.cause.cause.code ?? ''} ${e.cause.cause.message ?? ''}` : ''})` : '';
            error(`network/client error (${kind})`, `${e?.message ?? e}${cause}`);
        }
        return { failed: true, status };
    }
}

// ---------------------------------------------------------------------------------------------
// The model: answers from the conversation. "tools <tag>" → bash, write, read, then text;
// "text <tag>" → a streamed text reply.
function lastPrompt(messages) {
    for (let i = messages.length - 1; i >= 0; --i) {
        const m = messages[i];
        if (m.role !== 'user') continue;
        const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content ?? [];
        const text = blocks.find((b) => b.type === 'text' && /^(tools|text) \S+$/.test(b.text));
        if (text) return { index: i, text: text.text };
    }
    return null;
}
function respond(body) {
    const messages = body?.messages ?? [];
    const prompt = lastPrompt(messages);
    if (!prompt) return { error: { status: 400, message: 'soak model: no prompt found' } };
    const [mode, tag] = prompt.text.split(' ');
    if (mode === 'text') return { text: `answer for ${tag}: ${'lorem ipsum '.repeat(20)}`, chunks: 8, chunk_delay_ms: 15 };
    let results = 0;
    for (const m of messages.slice(prompt.index + 1))
        if (Array.isArray(m.content)) results += m.content.filter((b) => b.type === 'tool_result').length;
    switch (results) {
    case 0: return { tool_calls: [{ name: 'bash', input: { command: `echo ${tag} $((6*7))` } }] };
    case 1: return { tool_calls: [{ name: 'write', input: { file_path: `soak-${tag}.txt`, content: `${tag}\n` } }] };
    case 2: return { tool_calls: [{ name: 'read', input: { file_path: `/workspace/soak-${tag}.txt` } }] };
    default: return { text: `done ${tag}` };
    }
}
/** What each tool call of a "tools <tag>" turn must return, in order. */
const toolOutputs = (tag) => [`${tag} 42`, `wrote ${tag.length + 1} bytes to /workspace/soak-${tag}.txt`, `     1\t${tag}`];

// ---------------------------------------------------------------------------------------------
// vivariumd
const provider = await startScriptedProvider();
provider.setDefault(respond);
const modelKey = recordSecret(`sk-ant-soak-${uniq()}${uniq()}`);
const srv = await startServer({
    env: { ANTHROPIC_BASE_URL: provider.url, ANTHROPIC_API_KEY: modelKey, VIVARIUM_SANDBOX_PREWARM: '1',
        QT_LOGGING_RULES: 'vivarium.api.info=false' },
});
const client = srv.makeClient({ timeout: 120_000 });
let stopping = false; // the bench itself is ending the server
let crashed = false;
const pid = srv.pid;
const exitWatch = setInterval(() => {
    let state = 'gone';
    try { state = /State:\s+(\S)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]; } catch { /* gone */ }
    if (state === 'gone' || state === 'Z') {
        if (!stopping && !crashed) {
            crashed = true;
            error('vivariumd exited', `pid ${pid} gone; log tail:\n${srv.log().slice(-2000)}`);
        }
    }
}, 1000);

function sample() {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    const threads = Number(/Threads:\s+(\d+)/.exec(status)?.[1]);
    return { rssKiB, fds, threads, at: Date.now() };
}
const mib = (kib) => (kib / 1024).toFixed(1);

const agentTools = await client.beta.agents.create({
    name: `soak-tools-${uniq()}`, model: 'claude-sonnet-4-6',
    tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_allow' } } }],
});
const agentText = await client.beta.agents.create({ name: `soak-text-${uniq()}`, model: 'claude-sonnet-4-6' });
const env = await client.beta.environments.create({ name: `soak-${uniq()}` });

// ---------------------------------------------------------------------------------------------
// Sessions and their subscribers
const live = new Map(); // session id → {dying}
const isIdleEnd = (e) => e.type === 'session.status_idle' && e.stop_reason?.type !== 'requires_action';

/**
 * One SSE subscriber of a session that drops its connection after a random 1–4 events and
 * reconnects with Last-Event-ID. Opened before the first event is sent (the first connection
 * carries no Last-Event-ID: no history replay). Ends after `idles` ending idles, when the
 * server ends the stream of a deleted session, or on stop(). Returns {ids, events}.
 */
function subscribe(sessionId, idles, opened, onIdle = () => {}) {
    const ids = [];
    const events = [];
    let stopped = false;
    let current = null;
    let openedOnce = false;
    const trace = []; // per connection: how it opened, how many events, how it ended
    const done = (async () => {
        let lastId;
        let seenIdles = 0;
        while (!stopped && seenIdles < idles) {
            const headers = lastId ? { 'Last-Event-ID': lastId } : {};
            const r = await op(lastId ? 'sse reconnect' : 'sse connect',
                () => client.beta.sessions.events.stream(sessionId, {}, { headers }),
                () => (live.get(sessionId)?.dying !== false ? [404] : [])); // gone or going: 404 expected
            if (!openedOnce) { openedOnce = true; opened(); }
            if (!r.value) {
                trace.push(`open ${lastId ?? '-'} → ${r.status ?? 'failed'}`);
                return { ids, events, ended: true, trace };
            }
            current = r.value;
            const dropAfter = 1 + Math.floor(Math.random() * 4);
            let n = 0;
            let dropped = false;
            try {
                for await (const ev of current) {
                    ids.push(ev.id);
                    events.push(ev);
                    lastId = ev.id;
                    ++n;
                    if (isIdleEnd(ev)) onIdle(++seenIdles);
                    if (seenIdles >= idles || stopped) break;
                    if (n >= dropAfter) { dropped = true; break; }
                }
            } catch (e) {
                trace.push(`after ${lastId ?? '-'}: ${n} events, then ${e?.message ?? e}`);
                if (!stopped && !live.get(sessionId)?.dying) error('sse stream broke', e?.message ?? e);
                if (stopped || live.get(sessionId)?.dying) return { ids, events, ended: true, trace };
            }
            trace.push(`${headers['Last-Event-ID'] ?? 'live'}: ${n} events, ${dropped ? 'dropped' : stopped ? 'stopped' : seenIdles >= idles ? 'done' : 'ended by the server'}`);
            if (!dropped && seenIdles < idles && !stopped) return { ids, events, ended: true, trace }; // server ended it
        }
        return { ids, events, ended: false, trace };
    })();
    return { done, stop: () => { stopped = true; current?.controller.abort(); } };
}

/** Compares what a subscriber saw with the session's log: nothing missed, nothing twice, in order. */
function checkStream(sessionId, seenIds, loggedIds, { prefixOnly = false } = {}) {
    const counts = new Map();
    for (const id of seenIds) counts.set(id, (counts.get(id) ?? 0) + 1);
    const dups = [...counts.values()].filter((c) => c > 1).length;
    if (dups) error('SSE duplicate events', `${sessionId}: ${dups} ids seen more than once`);
    if (!loggedIds) return;
    const expectIds = prefixOnly ? loggedIds.slice(0, new Set(seenIds).size) : loggedIds;
    const missing = expectIds.filter((id) => !counts.has(id));
    if (missing.length) error('SSE lost events', `${sessionId}: ${missing.length} of ${expectIds.length} logged events never arrived`);
    const unique = [...new Set(seenIds)];
    if (!missing.length && unique.join() !== expectIds.join()) error('SSE events out of order', `${sessionId}`);
}

async function waitSubscribers(subs, ms) {
    let timer;
    const timeout = new Promise((r) => { timer = setTimeout(() => r('timeout'), ms); });
    const results = await Promise.race([Promise.all(subs.map((s) => s.done)), timeout]);
    clearTimeout(timer);
    if (results === 'timeout') {
        for (const s of subs) s.stop();
        return { timedOut: true, results: await Promise.all(subs.map((s) => s.done)) };
    }
    return { timedOut: false, results };
}

async function newSession(agent, metadata) {
    const r = await op('session create', () => client.beta.sessions.create({ agent: agent.id, environment_id: env.id, metadata }));
    if (r.value) live.set(r.value.id, { dying: false });
    return r.value;
}
/** Opens the subscribers one after the other; the first one's ending idles resolve idle(n). */
async function openSubscribers(id, turns) {
    const subs = [];
    const waiters = [];
    let idles = 0;
    const onIdle = (n) => {
        idles = n;
        for (const w of waiters.filter((x) => x.n <= n)) w.resolve(true);
    };
    for (let i = 0; i < Math.max(1, SUBSCRIBERS); ++i) {
        let opened;
        const p = new Promise((r) => { opened = r; });
        subs.push(subscribe(id, turns, opened, i === 0 ? onIdle : undefined));
        await p;
    }
    subs.idle = (n, ms) => (idles >= n ? Promise.resolve(true) : new Promise((resolve) => {
        const w = { n, resolve };
        waiters.push(w);
        setTimeout(() => resolve(false), ms);
    }));
    return subs;
}
async function removeSession(id, { archiveFirst }) {
    if (archiveFirst) await op('session archive', () => client.beta.sessions.archive(id));
    live.get(id).dying = true;
    await op('session delete', () => client.beta.sessions.delete(id));
    await op('session retrieve (deleted)', () => client.beta.sessions.retrieve(id).then(() => { throw new Error('a deleted session is still retrievable'); }), [404]);
    live.delete(id);
}

/** A session of several turns, its subscribers checked against the log; then archived/deleted. */
async function sessionCycle(mode, turns) {
    const session = await newSession(mode === 'tools' ? agentTools : agentText);
    if (!session) return;
    const subs = await openSubscribers(session.id, turns);
    const tags = [];
    // One turn after the other: each message is sent once the previous turn is idle.
    for (let t = 0; t < turns; ++t) {
        const tag = uniq(`${mode[0]}`);
        tags.push(tag);
        const t0 = performance.now();
        const sent = await op('events send', () => client.beta.sessions.events.send(session.id, { events: [userMessage(`${mode} ${tag}`)] }));
        if (!sent.value) break;
        if (!(await subs.idle(t + 1, TURN_TIMEOUT_MS))) break;
        if (!latencies.has(`${mode} turn`)) latencies.set(`${mode} turn`, []);
        latencies.get(`${mode} turn`).push(performance.now() - t0);
    }
    const { timedOut, results } = await waitSubscribers(subs, 5000);
    const errorsBefore = errorCount();
    if (timedOut) error('turn never ended', `${mode} session ${session.id}: not idle ${TURN_TIMEOUT_MS / 1000} s after a message`);
    const logged = await op('events list', () => collect(client.beta.sessions.events.list(session.id)));
    if (logged.value) {
        const loggedIds = logged.value.map((e) => e.id);
        for (const r of results) checkStream(session.id, r.ids, loggedIds, { prefixOnly: timedOut });
        checkTurns(mode, session.id, logged.value, tags);
        if (errorCount() > errorsBefore) dump(session.id, logged.value, results);
    }
    await removeSession(session.id, { archiveFirst: Math.random() < 0.5 });
}

const errorCount = () => [...errors.values()].reduce((a, b) => a + b, 0);
/** Keeps the event log of a session that failed a check (it is deleted afterwards). */
function dump(id, events, subscribers = []) {
    const file = path.join(process.env.VIVARIUM_TEST_ARTIFACTS || tmpdir(), `soak-${id}.json`);
    writeFileSync(file, JSON.stringify({ events, subscribers: subscribers.map((r) => ({ ids: r.ids, trace: r.trace })) }, null, 1));
    console.log(`bench_soak: events of ${id} kept in ${file}`);
}

function checkTurns(mode, id, events, tags) {
    const idles = events.filter(isIdleEnd);
    if (idles.length !== tags.length || idles.some((e) => e.stop_reason?.type !== 'end_turn'))
        error('turn ended wrongly', `${id}: idles ${JSON.stringify(idles.map((e) => e.stop_reason))}; ${events.map((e) => e.type).join(',')}`);
    const errs = events.filter((e) => e.type === 'session.error');
    if (errs.length) error('session.error in a turn', `${id}: ${JSON.stringify(errs[0]).slice(0, 300)}`);
    if (mode !== 'tools') return;
    const want = tags.flatMap(toolOutputs);
    const got = events.filter((e) => e.type === 'agent.tool_result').map((e) => (e.is_error ? 'ERROR: ' : '') + (e.content?.[0]?.text ?? ''));
    if (want.join('\n') !== got.join('\n')) error('wrong tool output', `${id}: want ${JSON.stringify(want)} got ${JSON.stringify(got)}`);
}

/** A tool turn archived or deleted at a random moment while it runs. */
async function raceCycle() {
    const session = await newSession(agentTools);
    if (!session) return;
    const subs = await openSubscribers(session.id, 1);
    const tag = uniq('r');
    await op('events send', () => client.beta.sessions.events.send(session.id, { events: [userMessage(`tools ${tag}`)] }));
    await sleep(Math.random() * 6000);
    if (Math.random() < 0.5) {
        // Archive while running: the turn must end (idle, maybe after a session.error saying why).
        await op('session archive (racing)', () => client.beta.sessions.archive(session.id));
        const { timedOut, results } = await waitSubscribers(subs, 60_000);
        if (timedOut) error('archived turn never ended', session.id);
        const logged = await op('events list', () => collect(client.beta.sessions.events.list(session.id)));
        if (logged.value) {
            const loggedIds = logged.value.map((e) => e.id);
            for (const r of results) checkStream(session.id, r.ids, timedOut ? null : loggedIds);
            const sent = await op('events send (archived)', () => client.beta.sessions.events.send(session.id, { events: [userMessage(`tools ${tag}`)] }), [400, 409]);
            if (sent.value) error('archived session took a message', session.id);
        }
        await removeSession(session.id, { archiveFirst: false });
    } else {
        live.get(session.id).dying = true;
        await op('session delete (racing)', () => client.beta.sessions.delete(session.id));
        const { timedOut, results } = await waitSubscribers(subs, 60_000);
        if (timedOut) error('stream of a deleted session never ended', session.id);
        for (const r of results) checkStream(session.id, r.ids, null);
        await op('session retrieve (deleted)', () => client.beta.sessions.retrieve(session.id).then(() => { throw new Error('a deleted session is still retrievable'); }), [404]);
        live.delete(session.id);
    }
}

async function filesCycle() {
    const size = 1024 + Math.floor(Math.random() * (1 << 20));
    const bytes = randomBytes(size);
    const up = await op('file upload', async () => client.beta.files.upload({ file: await toFile(bytes, `soak-${uniq()}.bin`, { type: 'application/octet-stream' }) }));
    if (!up.value) return;
    const id = up.value.id;
    await op('file retrieve', () => client.beta.files.retrieveMetadata(id));
    await op('file list', () => client.beta.files.list({ limit: 20 }));
    const down = await op('file download', async () => Buffer.from(await (await client.beta.files.download(id)).arrayBuffer()));
    if (down.value && !down.value.equals(bytes)) error('file download differs', `${id}: ${down.value.length} bytes, want ${size}`);
    await op('file delete', () => client.beta.files.delete(id));
    await op('file retrieve (deleted)', () => client.beta.files.retrieveMetadata(id).then(() => { throw new Error('a deleted file is still retrievable'); }), [404]);
}

async function readCycle() {
    const ids = [...live.keys()];
    const id = ids[Math.floor(Math.random() * ids.length)];
    const dyingOk = () => (id && live.get(id)?.dying !== false ? [404] : []); // called on failure
    switch (Math.floor(Math.random() * 7)) {
    case 0: await op('session list', () => client.beta.sessions.list({ limit: 20 })); break;
    case 1: await op('session list (archived too)', () => client.beta.sessions.list({ limit: 50, include_archived: true })); break;
    case 2: await op('agent list', () => client.beta.agents.list({ limit: 20 })); break;
    case 3: await op('agent retrieve', () => client.beta.agents.retrieve(agentTools.id)); break;
    case 4: await op('environment retrieve', () => client.beta.environments.retrieve(env.id)); break;
    case 5: if (id) await op('session retrieve', () => client.beta.sessions.retrieve(id), dyingOk); break;
    default: if (id) await op('events list (page)', () => client.beta.sessions.events.list(id, { limit: 50 }), dyingOk); break;
    }
    // A delete racing with this call makes a 404 expected; `live` may drop the id meanwhile.
    await sleep(100);
}

// ---------------------------------------------------------------------------------------------
// Phases
const cycles = new Map();
async function worker(name, fn, pauseMs = 0) {
    while (!stopLoad && !crashed) {
        try { await fn(); } catch (e) { error(`bench bug (${name})`, e?.stack ?? e); }
        note(cycles, name);
        if (pauseMs) await sleep(pauseMs);
    }
}
let stopLoad = false;
function startLoad() {
    stopLoad = false;
    const ws = [];
    for (let i = 0; i < VM_WORKERS; ++i) ws.push(worker('tool session', () => sessionCycle('tools', 2), 2000));
    for (let i = 0; i < RACE_WORKERS; ++i) ws.push(worker('race session', raceCycle, 2000));
    for (let i = 0; i < TEXT_WORKERS; ++i) ws.push(worker('text session', () => sessionCycle('text', 3)));
    ws.push(worker('files', filesCycle, 200));
    ws.push(worker('reads', readCycle));
    return ws;
}
async function drain(ws) {
    stopLoad = true;
    await Promise.all(ws);
    provider.requests.length = 0; // the provider's record of requests: not the server's memory
    // Sessions are gone; their VMs are destroyed asynchronously: wait until only the warm pool
    // (unclaimed VMs) is left, then let the server settle.
    const deadline = Date.now() + 60_000;
    let count = -1;
    while (Date.now() < deadline) {
        const res = await fetch(`${srv.baseURL}/v1/sandboxes?limit=100`, { headers: { 'x-api-key': srv.apiKey } });
        count = res.ok ? (await res.json()).data.length : -1;
        if (count >= 0 && count <= 1) break;
        await sleep(1000);
    }
    await sleep(5000);
    return count;
}

const t0 = Date.now();
console.log(`bench_soak: ${MINUTES} min of mixed load against one vivariumd (pid ${pid}); warm-up ${WARMUP_S} s; ` +
    `workers: ${VM_WORKERS} tool-session + ${RACE_WORKERS} race (VMs), ${TEXT_WORKERS} text-session, 1 files, 1 reads; ` +
    `${SUBSCRIBERS} reconnecting SSE subscribers per session`);
console.log(`bench_soak: bounds: RSS growth ≤ ${MAX_RSS_MIB} MiB, fd growth ≤ ${MAX_FDS} (start and end both sampled with the load drained)`);
console.log(`bench_soak: at launch RSS ${mib(sample().rssKiB)} MiB, ${sample().fds} fds`);

let load = startLoad();
const warmDeadline = Date.now() + 15 * 60_000;
while (!crashed && Date.now() < warmDeadline) {
    const everyWorkerRan = ['tool session', 'race session', 'text session', 'files', 'reads']
        .every((w) => (cycles.get(w) ?? 0) >= 1 || (w === 'tool session' && !VM_WORKERS) || (w === 'race session' && !RACE_WORKERS) || (w === 'text session' && !TEXT_WORKERS));
    if (everyWorkerRan && Date.now() - t0 >= WARMUP_S * 1000) break;
    await sleep(1000);
}
if (Date.now() >= warmDeadline) error('warm-up never completed a cycle of every worker', JSON.stringify([...cycles]));
const warmSandboxes = await drain(load);
const start = sample();
console.log(`bench_soak: warm-up done after ${((Date.now() - t0) / 1000).toFixed(0)} s (cycles ${JSON.stringify(Object.fromEntries(cycles))}); ` +
    `start: RSS ${mib(start.rssKiB)} MiB, ${start.fds} fds, ${start.threads} threads, ${warmSandboxes} VMs`);

// The measured run: counters restart so the figures cover this phase only.
const warmErrors = new Map(errors);
latencies.clear(); expected.clear(); cycles.clear();
phase = 'soak';
const soakStart = Date.now();
const soakEnd = soakStart + MINUTES * 60_000;
load = startLoad();
const samples = [start];
while (!crashed && Date.now() < soakEnd) {
    await sleep(Math.min(SAMPLE_S * 1000, Math.max(0, soakEnd - Date.now())));
    if (crashed) break;
    const s = sample();
    samples.push(s);
    const nOps = [...latencies.values()].reduce((a, l) => a + l.length, 0);
    const nErr = errorCount();
    console.log(`bench_soak: +${((s.at - soakStart) / 60_000).toFixed(1)} min  RSS ${mib(s.rssKiB)} MiB  fds ${s.fds}  threads ${s.threads}  ` +
        `ops ${nOps}  live sessions ${live.size}  errors ${nErr}`);
}
const endSandboxes = crashed ? -1 : await drain(load);
stopLoad = true;
const end = crashed ? null : sample();
const soakMinutes = (Date.now() - soakStart) / 60_000;

// ---------------------------------------------------------------------------------------------
// Summary
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1) + 0.5))];
console.log(`\nbench_soak: summary (${soakMinutes.toFixed(1)} min measured after warm-up; latencies under whatever else the machine runs)`);
console.log(`  ${'operation'.padEnd(30)} ${'ops'.padStart(7)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'max ms'.padStart(9)}`);
for (const [kind, l] of [...latencies].sort()) {
    const s = [...l].sort((a, b) => a - b);
    console.log(`  ${kind.padEnd(30)} ${String(s.length).padStart(7)} ${pct(s, 0.5).toFixed(1).padStart(9)} ${pct(s, 0.99).toFixed(1).padStart(9)} ${s.at(-1).toFixed(1).padStart(9)}`);
}
console.log(`  cycles: ${JSON.stringify(Object.fromEntries(cycles))}`);
console.log(`  expected non-2xx: ${JSON.stringify(Object.fromEntries(expected))}`);
const peak = samples.reduce((m, s) => Math.max(m, s.rssKiB), 0);
const peakFds = samples.reduce((m, s) => Math.max(m, s.fds), 0);
let failed = false;
if (end) {
    const dRss = (end.rssKiB - start.rssKiB) / 1024;
    const dFds = end.fds - start.fds;
    console.log(`  RSS   start ${mib(start.rssKiB)} MiB → end ${mib(end.rssKiB)} MiB (${dRss >= 0 ? '+' : ''}${dRss.toFixed(1)} MiB; bound +${MAX_RSS_MIB} MiB); peak under load ${mib(peak)} MiB`);
    console.log(`  fds   start ${start.fds} → end ${end.fds} (${dFds >= 0 ? '+' : ''}${dFds}; bound +${MAX_FDS}); peak under load ${peakFds}`);
    console.log(`  threads start ${start.threads} → end ${end.threads}; VMs left after drain: start ${warmSandboxes}, end ${endSandboxes}`);
    if (dRss > MAX_RSS_MIB) { failed = true; console.log(`  FAIL: RSS grew ${dRss.toFixed(1)} MiB > ${MAX_RSS_MIB} MiB`); }
    if (dFds > MAX_FDS) { failed = true; console.log(`  FAIL: descriptors grew by ${dFds} > ${MAX_FDS}`); }
}
const report = (title, map) => {
    const total = [...map.values()].reduce((a, b) => a + b, 0);
    console.log(`  ${title}: ${total}`);
    for (const [k, v] of map) console.log(`    ${k}: ${v}   e.g. ${errorSamples.get(k) ?? ''}`);
    return total;
};
if (report('errors (warm-up and soak)', errors)) failed = true;
if (warmErrors.size) console.log(`  (of which during warm-up: ${JSON.stringify(Object.fromEntries(warmErrors))})`);

stopping = true;
clearInterval(exitWatch);
const exit = await srv.stop();
await provider.close();
if (!crashed && exit.signal === 'SIGKILL') { failed = true; console.log('  FAIL: vivariumd did not stop on SIGTERM'); }
console.log(`bench_soak: ${failed ? 'FAILED' : 'passed'}`);
process.exit(failed ? 1 : 0);
