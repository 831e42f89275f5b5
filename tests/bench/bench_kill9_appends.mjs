// Benchmark (issue "Agent runtime"): kill -9 during 1,000 concurrent appends, 20 runs.
//
// Each run: a fresh vivariumd (fresh data dir, SQLite synchronous=FULL) on 127.0.0.1; the client
// starts 1,000 POST /v1/sessions/{id}/events (one user.message each) at once over real
// loopback sockets and records the event id of every request answered 200 (acknowledged).
// Once a random share (10–80 %) of them is acknowledged, vivariumd gets SIGKILL while the rest
// are still in flight. Then:
//   1. `PRAGMA integrity_check` (sqlite3 CLI) on a copy of the files exactly as the kill left them;
//   2. vivariumd restarts on the same data dir (crash recovery runs); every acknowledged id must
//      be in GET /v1/sessions/{id}/events, and the session must not be left `running`;
//   3. vivariumd stops (SIGTERM) and `PRAGMA integrity_check` runs on the database itself.
// The runtime is live during the flood: every user.message starts a turn, which ends at once
// (no model key configured → retries_exhausted), so appends interleave with runtime commits and
// a kill can land in the middle of a turn.
//
// Note: SIGKILL ends the process, not the machine — the OS page cache survives — so this proves
// that nothing is acknowledged before its commit and that the files stay consistent; it is not
// a power-loss test (synchronous=FULL covers that).
//
// Prints per-run counts, the totals and a closing line. Timings are not asserted; it exits
// non-zero when it cannot run, or when an acknowledged event was lost or integrity_check failed.
//
// usage: node bench_kill9_appends.mjs path/to/vivariumd
//   BENCH_KILL_RUNS (default 20)  BENCH_KILL_APPENDS (default 1000)  BENCH_KILL_SOCKETS (default 1000)
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';

const vivariumd = process.argv[2] ?? 'build/bin/vivariumd';
const runs = Number(process.env.BENCH_KILL_RUNS ?? 20);
const appends = Number(process.env.BENCH_KILL_APPENDS ?? 1000);
const sockets = Number(process.env.BENCH_KILL_SOCKETS ?? 1000);
const key = `bench-kill9-${crypto.randomBytes(8).toString('hex')}`;

function die(msg) {
    console.log(`bench_kill9_appends: FAILED to run (${msg})`);
    process.exit(1);
}
try { execFileSync('sqlite3', ['-version']); } catch { die('the sqlite3 CLI is not installed'); }
if (!fs.existsSync(vivariumd)) die(`no vivariumd at ${vivariumd}`);

function startDaemon(dataDir) {
    const env = { ...process.env, VIVARIUM_API_KEY: key, ANTHROPIC_BASE_URL: 'https://api.anthropic.com',
        OPENAI_BASE_URL: 'https://api.openai.com/v1', QT_LOGGING_RULES: 'vivarium.api.info=false' };
    delete env.ANTHROPIC_API_KEY; // no model call may leave this machine: turns end "not configured"
    delete env.OPENAI_API_KEY;
    const child = spawn(vivariumd, ['--listen', '127.0.0.1:0', '--data-dir', dataDir],
                        { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let log = '';
    const ready = new Promise((resolve, reject) => {
        const onData = (d) => {
            log += d;
            const m = /listening on (http:\/\/[^\s]+)/.exec(log);
            if (m) resolve(m[1]);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', () => reject(new Error(`vivariumd exited before listening:\n${log}`)));
        setTimeout(() => reject(new Error(`vivariumd did not start:\n${log}`)), 15000);
    });
    return { child, ready, exited };
}

function call(agent, base, method, p, body) {
    return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const req = http.request(`${base}${p}`, {
            method, agent,
            headers: { 'x-api-key': key, 'anthropic-beta': 'managed-agents-2026-04-01',
                ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}) },
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const text = Buffer.concat(chunks).toString();
                let json = null;
                try { json = JSON.parse(text); } catch { /* not JSON */ }
                resolve({ status: res.statusCode, json, complete: res.complete });
            });
            res.on('error', reject);
            res.on('aborted', () => reject(new Error('response aborted')));
        });
        req.on('error', reject);
        if (data) req.write(data);
        req.end();
    });
}

function integrity(dbPath) {
    try {
        return execFileSync('sqlite3', [dbPath, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim();
    } catch (e) {
        return `sqlite3 failed: ${e.message.split('\n')[0]}`;
    }
}

const totals = { acked: 0, sent: 0, present: 0, lost: 0, crashOk: 0, finalOk: 0, leftRunning: 0 };
console.log(`bench_kill9_appends: ${runs} runs × ${appends} concurrent POST /v1/sessions/{id}/events ` +
            `(up to ${sockets} connections), SIGKILL after a random 10–80 % are acknowledged`);
const started = Date.now();
for (let run = 1; run <= runs; ++run) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vivarium-kill9-'));
    const dbPath = path.join(dataDir, 'vivarium.sqlite3');
    try {
        // --- setup -------------------------------------------------------------------------
        let d = startDaemon(dataDir);
        const base = await d.ready;
        const setup = new http.Agent({ keepAlive: true, maxSockets: 4 });
        const agentRes = await call(setup, base, 'POST', '/v1/agents', { name: 'kill9', model: 'claude-sonnet-4-6' });
        const envRes = await call(setup, base, 'POST', '/v1/environments', { name: 'kill9' });
        const sesRes = await call(setup, base, 'POST', '/v1/sessions', { agent: agentRes.json?.id, environment_id: envRes.json?.id });
        const sessionId = sesRes.json?.id;
        if (!sessionId) die(`cannot create a session: ${JSON.stringify(sesRes.json)}`);
        setup.destroy();

        // --- the flood, and the kill ----------------------------------------------------------
        const killAt = Math.floor(appends * (0.1 + Math.random() * 0.7));
        const flood = new http.Agent({ keepAlive: true, maxSockets: sockets });
        const acked = new Set();
        let failed = 0;
        let killedAfter = -1;
        const beforeKill = new Map(); // why requests failed while the server was still alive
        const note = (why) => beforeKill.set(why, (beforeKill.get(why) ?? 0) + 1);
        const t0 = Date.now();
        const requests = [];
        for (let i = 0; i < appends; ++i) {
            requests.push(call(flood, base, 'POST', `/v1/sessions/${sessionId}/events`,
                               { events: [{ type: 'user.message', content: [{ type: 'text', text: `append ${run}.${i}` }] }] })
                .then((r) => {
                    const id = r.json?.data?.[0]?.id;
                    if (r.status === 200 && r.complete && typeof id === 'string') {
                        acked.add(id);
                        if (acked.size === killAt && killedAfter < 0) {
                            killedAfter = acked.size;
                            d.child.kill('SIGKILL');
                            // Answers already on their way are still read for 2 s; after that,
                            // requests stuck in TCP retransmits to the dead port are abandoned
                            // (nothing can acknowledge them any more).
                            setTimeout(() => flood.destroy(), 2000);
                        }
                    } else {
                        ++failed;
                        if (killedAfter < 0) note(`HTTP ${r.status}`);
                    }
                }, (e) => { ++failed; if (killedAfter < 0) note(e.code ?? e.message); }));
        }
        await Promise.all(requests);
        flood.destroy();
        if (killedAfter < 0) die(`run ${run}: the kill point (${killAt} acks) was never reached (${acked.size} acked, ${failed} failed: ` +
                                  `${JSON.stringify(Object.fromEntries(beforeKill))})`);
        const exit = await d.exited;
        if (exit.signal !== 'SIGKILL') die(`run ${run}: vivariumd ended with ${JSON.stringify(exit)}, not SIGKILL`);
        const floodMs = Date.now() - t0;

        // --- 1. integrity of the files as the kill left them (on a copy) -----------------------
        const crashCopy = fs.mkdtempSync(path.join(os.tmpdir(), 'vivarium-kill9-copy-'));
        for (const suffix of ['', '-wal', '-shm'])
            if (fs.existsSync(dbPath + suffix)) fs.copyFileSync(dbPath + suffix, path.join(crashCopy, 'vivarium.sqlite3' + suffix));
        const crashIntegrity = integrity(path.join(crashCopy, 'vivarium.sqlite3'));
        fs.rmSync(crashCopy, { recursive: true, force: true });

        // --- 2. restart, every acknowledged event must be there --------------------------------
        d = startDaemon(dataDir);
        const base2 = await d.ready;
        const reader = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const present = new Set();
        let userMessages = 0;
        let page = '';
        for (;;) {
            const r = await call(reader, base2, 'GET',
                `/v1/sessions/${sessionId}/events?limit=1000&order=asc${page ? `&page=${encodeURIComponent(page)}` : ''}`);
            if (r.status !== 200) die(`run ${run}: listing events after restart answered ${r.status}`);
            for (const e of r.json.data) {
                present.add(e.id);
                if (e.type === 'user.message') ++userMessages;
            }
            if (!r.json.next_page) break;
            page = r.json.next_page;
        }
        const session = await call(reader, base2, 'GET', `/v1/sessions/${sessionId}`);
        const status = session.json?.status;
        reader.destroy();
        let lost = 0;
        for (const id of acked) if (!present.has(id)) ++lost;

        // --- 3. clean stop, integrity of the database itself ----------------------------------
        d.child.kill('SIGTERM');
        await d.exited;
        const finalIntegrity = integrity(dbPath);

        totals.acked += acked.size;
        totals.sent += appends;
        totals.present += userMessages;
        totals.lost += lost;
        totals.crashOk += crashIntegrity === 'ok';
        totals.finalOk += finalIntegrity === 'ok';
        totals.leftRunning += status === 'running';
        console.log(`bench_kill9_appends: run ${String(run).padStart(2)}: acked ${String(acked.size).padStart(4)}, ` +
                    `not acked ${String(failed).padStart(4)} (${[...beforeKill.values()].reduce((a, b) => a + b, 0)} of them failed before the kill), user.message in log after restart ${String(userMessages).padStart(4)}, ` +
                    `acked but lost ${lost}, integrity at kill: ${crashIntegrity}, after restart: ${finalIntegrity}, ` +
                    `session ${status}, flood ${floodMs} ms`);
    } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
    }
}
const ok = totals.lost === 0 && totals.crashOk === runs && totals.finalOk === runs && totals.leftRunning === 0;
console.log(`bench_kill9_appends: totals: ${runs} runs, ${totals.sent} sent, ${totals.acked} acknowledged, ` +
            `${totals.present} user.message events found after restart, ${totals.lost} acknowledged events lost, ` +
            `integrity_check ok ${totals.crashOk}/${runs} at kill and ${totals.finalOk}/${runs} after restart, ` +
            `sessions left running ${totals.leftRunning} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log(`bench_kill9_appends: 0 acknowledged events lost and integrity ok in ${runs} kill -9 runs: ${ok ? 'met' : 'NOT met'}`);
process.exit(ok ? 0 : 1);
