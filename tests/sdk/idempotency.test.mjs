// A POST retried after a dropped connection acts once when it carries an Idempotency-Key.
//
// What the SDKs send (read from their sources): no pinned generation sends an idempotency key
// by default (0.86.1 has an `idempotencyKey` request option but the Anthropic client names no
// header for it; 1.10.0 and 1.17.0 have none); every retry carries `X-Stainless-Retry-Count`
// and the request's own headers again. All three retry a connection that fails before the
// response; 1.17.0 also retries when the connection drops part-way through the response body.
// A client gets idempotent retries by sending the header in the request options
// (`{ headers: { 'Idempotency-Key': key } }`), which the SDK repeats on each retry.
//
// The connection is cut by a loopback TCP proxy started here, between the SDK and vivariumd:
// the server has answered (the request was done), the client never gets the whole answer.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { after, describe, test } from 'node:test';

import { collect, uniq, useServer, userMessage } from './helpers.mjs';

const GENERATIONS = { '0.86.1': 'sdk-0-86', '1.10.0': '@anthropic-ai/sdk', '1.17.0': 'sdk-1-17' };
const sdks = {};
for (const [version, pkg] of Object.entries(GENERATIONS)) sdks[version] = (await import(pkg)).default;

/**
 * A proxy on 127.0.0.1 in front of `target` (host:port). `cutNext(mode)` arms a cut of the
 * answer to the next request (whichever kept-alive connection carries it): 'before-response'
 * closes the client's connection when the first response byte arrives from the server (nothing
 * reaches the client), 'mid-body' forwards the status line, the headers and part of the body,
 * then closes it. Everything else passes through. `requests` lists every request head seen: {method, path, headers}.
 */
async function startCuttingProxy(target) {
    const [host, port] = [target.hostname, Number(target.port)];
    const requests = [];
    const sockets = new Set();
    let armed = null;
    const server = net.createServer((client) => {
        let mode = null; // the cut armed for this connection's next answer
        const upstream = net.connect(port, host);
        sockets.add(client).add(upstream);
        let head = '';
        client.on('data', (chunk) => {
            head += chunk.toString('latin1');
            let end;
            while ((end = head.indexOf('\r\n\r\n')) >= 0) {
                const lines = head.slice(0, end).split('\r\n');
                const [method, path] = lines[0].split(' ');
                const headers = {};
                for (const line of lines.slice(1)) {
                    const colon = line.indexOf(':');
                    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
                }
                requests.push({ method, path, headers });
                if (armed) {
                    mode = armed;
                    armed = null;
                }
                const length = Number(headers['content-length'] ?? 0);
                head = head.slice(end + 4 + length);
            }
            upstream.write(chunk);
        });
        let response = Buffer.alloc(0);
        upstream.on('data', (chunk) => {
            if (!mode) return void client.write(chunk);
            if (mode === 'before-response') {
                client.destroy();
                upstream.destroy();
                return;
            }
            response = Buffer.concat([response, chunk]);
            const end = response.indexOf('\r\n\r\n');
            if (end < 0) return;
            const length = Number(/content-length:\s*(\d+)/i.exec(response.subarray(0, end).toString('latin1'))?.[1] ?? 0);
            if (length < 4 || response.length < end + 4 + length) return; // the whole answer first
            client.write(response.subarray(0, end + 4 + Math.floor(length / 2)), () => {
                client.destroy();
                upstream.destroy();
            });
        });
        const close = () => {
            client.destroy();
            upstream.destroy();
        };
        client.on('error', close).on('close', close);
        upstream.on('error', close).on('close', close);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        url: `http://127.0.0.1:${server.address().port}`,
        requests,
        cutNext(mode) {
            armed = mode;
        },
        async close() {
            for (const s of sockets) s.destroy();
            await new Promise((resolve) => server.close(resolve));
        },
    };
}

let proxy;
let env;
let agent;
const srv = useServer(async (ctx) => {
    env = await ctx.client.beta.environments.create({ name: uniq('idem-env-') });
    agent = await ctx.client.beta.agents.create({ name: uniq('idem-agent-'), model: 'claude-sonnet-4-6' });
    proxy = await startCuttingProxy(new URL(ctx.baseURL));
});
after(async () => proxy?.close());

/** An SDK client of the given generation that talks through the proxy and retries (fast). */
function retryingClient(version) {
    const client = new sdks[version]({ baseURL: proxy.url, apiKey: srv.apiKey, authToken: null, maxRetries: 2, timeout: 15_000 });
    return client;
}

async function newSession() {
    return srv.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
}

async function userMessagesWith(sessionId, text) {
    const events = await collect(srv.client.beta.sessions.events.list(sessionId));
    return events.filter((e) => e.type === 'user.message' && e.content?.[0]?.text === text);
}

/** The POSTs the proxy saw to `path` since index `from`. */
function postsTo(path, from) {
    return proxy.requests.slice(from).filter((r) => r.method === 'POST' && r.path.split('?')[0] === path);
}

describe('SDK 1.17.0: the connection drops part-way through the response', () => {
    test('events.send with an Idempotency-Key: the SDK retries, exactly one event', async () => {
        const session = await newSession();
        const key = `send-${randomUUID()}`;
        const from = proxy.requests.length;
        proxy.cutNext('mid-body');
        const sent = await retryingClient('1.17.0').beta.sessions.events.send(
            session.id,
            { events: [userMessage('once, despite the cut')] },
            { headers: { 'Idempotency-Key': key } },
        );
        const posts = postsTo(`/v1/sessions/${session.id}/events`, from);
        assert.equal(posts.length, 2, 'the SDK sent the POST again after the cut');
        assert.deepEqual(posts.map((p) => p.headers['idempotency-key']), [key, key]);
        assert.deepEqual(posts.map((p) => p.headers['x-stainless-retry-count']), ['0', '1']);
        const stored = await userMessagesWith(session.id, 'once, despite the cut');
        assert.equal(stored.length, 1, 'one event');
        assert.equal(sent.data[0].id, stored[0].id, 'the retry got the first answer');
    });

    test('sessions.create with an Idempotency-Key: the SDK retries, exactly one session', async () => {
        const before = await collect(srv.client.beta.sessions.list({ agent_id: agent.id }));
        const key = `create-${randomUUID()}`;
        const from = proxy.requests.length;
        proxy.cutNext('mid-body');
        const created = await retryingClient('1.17.0').beta.sessions.create(
            { agent: agent.id, environment_id: env.id, title: 'created once' },
            { headers: { 'Idempotency-Key': key } },
        );
        assert.equal(postsTo('/v1/sessions', from).length, 2, 'the SDK sent the POST again after the cut');
        const afterList = await collect(srv.client.beta.sessions.list({ agent_id: agent.id }));
        const added = afterList.filter((s) => !before.some((b) => b.id === s.id));
        assert.deepEqual(added.map((s) => s.id), [created.id], 'one session, the one the SDK returned');
    });

    // The control that shows what the key is for: the same cut without a key, and the SDK's
    // retry is a second request the server cannot tell from a new one.
    test('without a key the same retry is a second event (why the key exists)', async () => {
        const session = await newSession();
        const from = proxy.requests.length;
        proxy.cutNext('mid-body');
        await retryingClient('1.17.0').beta.sessions.events.send(session.id, { events: [userMessage('no key')] });
        const posts = postsTo(`/v1/sessions/${session.id}/events`, from);
        assert.equal(posts.length, 2);
        assert.equal(posts[0].headers['idempotency-key'], undefined, 'the SDK sends no key of its own');
        assert.equal((await userMessagesWith(session.id, 'no key')).length, 2);
    });
});

describe('every SDK generation: the connection closes before any response byte', () => {
    for (const version of Object.keys(GENERATIONS)) {
        test(`SDK ${version}: events.send with an Idempotency-Key retries into exactly one event`, async () => {
            const session = await newSession();
            const key = `early-${randomUUID()}`;
            const from = proxy.requests.length;
            proxy.cutNext('before-response');
            const sent = await retryingClient(version).beta.sessions.events.send(
                session.id,
                { events: [userMessage(`early cut ${version}`)] },
                { headers: { 'Idempotency-Key': key } },
            );
            const posts = postsTo(`/v1/sessions/${session.id}/events`, from);
            assert.equal(posts.length, 2, 'the SDK sent the POST again');
            assert.deepEqual(posts.map((p) => p.headers['idempotency-key']), [key, key]);
            const stored = await userMessagesWith(session.id, `early cut ${version}`);
            assert.equal(stored.length, 1);
            assert.equal(sent.data[0].id, stored[0].id);
        });
    }
});
