// `client.beta.sessions.events.stream()` on every pinned SDK generation (VIVARIUM_SDK_PACKAGE:
// 0.86.1, 1.10.0, 1.17.0): a turn answered by the scripted provider streams in order through to
// session.status_idle, keep-alives never surface as items, and a reconnect with Last-Event-ID
// (sent as a request header through the SDK's request options) replays exactly what was missed,
// then goes live. SDK 0.86.x yields only SSE frames named `message`: this file is what proves
// the server names them so.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, test } from 'node:test';

import { startScriptedProvider } from '../provider/scripted-provider.mjs';
import { SDK_VERSION, collect, readStreamUntil, recordSecret, sleep, uniq, useServer, userMessage } from './helpers.mjs';

const ANTHROPIC_KEY = recordSecret(`sk-ant-scripted-${uniq()}${uniq()}`);
const HEARTBEAT_MS = 100;

let provider;
let env;
let agent;
const srv = useServer(
    async (ctx) => {
        env = await ctx.client.beta.environments.create({ name: uniq('stream-env-') });
        agent = await ctx.client.beta.agents.create({ name: uniq('stream-agent-'), model: 'claude-sonnet-4-6' });
    },
    async () => {
        provider = await startScriptedProvider();
        return {
            env: {
                ANTHROPIC_BASE_URL: provider.url,
                ANTHROPIC_API_KEY: ANTHROPIC_KEY,
                // Frequent keep-alives, so that every stream below has several `ping` frames
                // between its events.
                VIVARIUM_SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
            },
        };
    },
);
after(async () => provider?.close());

/**
 * Reads one SDK stream in several steps (a `for await` that breaks would end the stream):
 * until(pred, ms) returns the items up to and including the first that matches; the stream
 * is aborted when ms pass first.
 */
function reader(stream) {
    const it = stream[Symbol.asyncIterator]();
    return {
        async until(pred, ms) {
            const out = [];
            const timer = setTimeout(() => stream.controller.abort(), ms);
            try {
                for (;;) {
                    const { value, done } = await it.next();
                    if (done) return out;
                    out.push(value);
                    if (pred(value)) return out;
                }
            } finally {
                clearTimeout(timer);
            }
        },
    };
}

const TURN = ['user.message', 'session.status_running', 'span.model_request_start', 'agent.message', 'span.model_request_end', 'session.status_idle'];
const isIdle = (e) => e.type === 'session.status_idle';

describe(`events.stream() on SDK ${SDK_VERSION}`, () => {
    test('yields a turn’s events in order through to session.status_idle, and nothing else', async () => {
        provider.reset();
        provider.enqueue({ text: 'Streamed answer.', chunks: 3, chunk_delay_ms: 2 * HEARTBEAT_MS });
        const session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        const stream = await srv.client.beta.sessions.events.stream(session.id);
        const sent = await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('stream me')] });
        const seen = await readStreamUntil(stream, isIdle, 20_000);
        stream.controller.abort();

        assert.deepEqual(seen.map((e) => e.type), TURN, `SDK ${SDK_VERSION} yielded ${JSON.stringify(seen)}`);
        assert.equal(seen[0].id, sent.data[0].id);
        assert.deepEqual(seen[0].content, [{ type: 'text', text: 'stream me' }]);
        assert.deepEqual(seen[3].content, [{ type: 'text', text: 'Streamed answer.' }]);
        assert.deepEqual(seen[5].stop_reason, { type: 'end_turn' });
        // What the stream yielded is the log, item for item (same ids, same order).
        const listed = await collect(srv.client.beta.sessions.events.list(session.id));
        assert.deepEqual(seen.map((e) => e.id), listed.map((e) => e.id));
    });

    test('keep-alives between events never surface as items', async () => {
        provider.reset();
        provider.enqueue({ text: 'after a quiet while' });
        const session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        const stream = await srv.client.beta.sessions.events.stream(session.id);
        // Several heartbeats pass with nothing to report; then a turn.
        await sleep(6 * HEARTBEAT_MS);
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('wake up')] });
        const seen = await readStreamUntil(stream, isIdle, 20_000);
        stream.controller.abort();
        assert.deepEqual(seen.map((e) => e.type), TURN);
    });

    test('a reconnect with Last-Event-ID replays exactly what was missed, then goes live', async () => {
        provider.reset();
        provider.enqueue({ text: 'first answer' }, { text: 'second answer' });
        const session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        const first = await srv.client.beta.sessions.events.stream(session.id);
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('turn one')] });
        // The client reads the first three events, then its connection goes away.
        const got = [];
        for await (const e of first) {
            got.push(e);
            if (got.length === 3) break; // break aborts the SDK's request
        }
        assert.deepEqual(got.map((e) => e.type), TURN.slice(0, 3));
        // The turn finishes while nobody listens.
        const deadline = Date.now() + 20_000;
        let listed = [];
        while (Date.now() < deadline) {
            listed = await collect(srv.client.beta.sessions.events.list(session.id));
            if (listed.some(isIdle)) break;
            await sleep(25);
        }
        assert.deepEqual(listed.map((e) => e.type), TURN);

        const second = await srv.client.beta.sessions.events.stream(session.id, {}, { headers: { 'Last-Event-ID': got[2].id } });
        const read = reader(second);
        const replayed = await read.until(isIdle, 20_000);
        assert.deepEqual(replayed.map((e) => e.id), listed.slice(3).map((e) => e.id), 'exactly the missed events, once each, in order');
        // The same stream then carries the next turn live.
        const sent = await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('turn two')] });
        const live = await read.until(isIdle, 20_000);
        second.controller.abort();
        assert.deepEqual(live.map((e) => e.type), TURN);
        assert.equal(live[0].id, sent.data[0].id);
        assert.deepEqual(live[3].content, [{ type: 'text', text: 'second answer' }]);
    });

    test('a stream the server ends says Connection: close, so no client sends its next request on that socket', async () => {
        // One keep-alive socket for everything: the stream's, then the next request's if the
        // client thought it reusable. The server ends a stream by closing the connection (here:
        // the session is deleted); a response without `Connection: close` let the client put the
        // socket back in its pool and the next request die with "other side closed".
        const agentPool = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const url = new URL(srv.baseURL);
        const get = (path, onResponse) => http.get({
            agent: agentPool, host: url.hostname, port: url.port, path,
            headers: { 'x-api-key': srv.apiKey, 'anthropic-version': '2023-06-01' },
        }, onResponse);
        try {
            const session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
            const streamed = new Promise((resolve, reject) => {
                const req = get(`/v1/sessions/${session.id}/events/stream`, (res) => {
                    const headers = res.headers;
                    let body = '';
                    res.setEncoding('utf8');
                    res.on('data', (d) => { body += d; });
                    res.on('end', () => resolve({ status: res.statusCode, headers, body }));
                    res.on('error', reject);
                    // Once the stream is open, the session goes; the server ends the stream.
                    srv.client.beta.sessions.delete(session.id).catch(reject);
                });
                req.on('error', reject);
            });
            // Queued behind the stream on the one socket: sent the moment the stream ends.
            const next = new Promise((resolve, reject) => {
                streamed.then(() => {
                    const req = get(`/v1/agents/${agent.id}`, (res) => {
                        let body = '';
                        res.setEncoding('utf8');
                        res.on('data', (d) => { body += d; });
                        res.on('end', () => resolve({ status: res.statusCode, body }));
                    });
                    req.on('error', reject);
                }, reject);
            });
            const stream = await streamed;
            const after = await next; // "socket hang up" when the socket was wrongly reused
            assert.equal(stream.status, 200);
            assert.equal(stream.headers.connection, 'close');
            assert.match(stream.body, /session\.deleted/);
            assert.equal(after.status, 200);
            assert.equal(JSON.parse(after.body).id, agent.id);
        } finally {
            agentPool.destroy();
        }
    });
});
