// Vivarium goes further than the hosted API: every SSE event carries `id:`, and a reconnect
// with Last-Event-ID replays exactly what was missed. Raw fetch for the stream (the SDK does
// not expose Last-Event-ID), the SDK for everything else.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BETA_HEADER, uniq, useServer, userMessage } from './helpers.mjs';

const srv = useServer();
const TIMEOUT = Symbol('timeout');
const openStreams = [];

/** Opens the raw SSE stream; returns {res, abort, next(ms)} yielding parsed SSE events. */
async function openStream(sessionId, lastEventId) {
    const ac = new AbortController();
    const headers = { 'x-api-key': srv.apiKey, 'anthropic-beta': BETA_HEADER, accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId;
    const res = await fetch(`${srv.baseURL}/v1/sessions/${sessionId}/events/stream`, { headers, signal: ac.signal });
    const iter = sseEvents(res.body);
    let pending = null; // a read that outlived its timeout keeps its event for the next call
    const handle = {
        res,
        abort: () => ac.abort(),
        // The next SSE event, or TIMEOUT after ms.
        next: async (ms) => {
            pending ??= iter.next().then(
                (r) => (r.done ? TIMEOUT : r.value),
                () => TIMEOUT, // aborted
            );
            let timer;
            const ev = await Promise.race([pending, new Promise((r) => (timer = setTimeout(r, ms, TIMEOUT)))]);
            clearTimeout(timer);
            if (ev !== TIMEOUT) pending = null;
            return ev;
        },
    };
    openStreams.push(handle);
    return handle;
}

async function* sseEvents(body) {
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of body) {
        buf += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, '\n');
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev = { id: undefined, event: undefined, data: [] };
            let any = false;
            for (const line of block.split('\n')) {
                if (line === '' || line.startsWith(':')) continue; // comment / keep-alive
                any = true;
                const colon = line.indexOf(':');
                const field = colon < 0 ? line : line.slice(0, colon);
                let value = colon < 0 ? '' : line.slice(colon + 1);
                if (value.startsWith(' ')) value = value.slice(1);
                if (field === 'data') ev.data.push(value);
                else if (field === 'id') ev.id = value;
                else if (field === 'event') ev.event = value;
            }
            if (!any) continue;
            ev.data = ev.data.join('\n');
            ev.json = ev.data ? JSON.parse(ev.data) : undefined;
            yield ev;
        }
    }
}

/** Reads SSE events (skipping pings) until pred matches or ms passes. */
async function readUntil(stream, pred, ms) {
    const out = [];
    const deadline = Date.now() + ms;
    for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        const ev = await stream.next(left);
        if (ev === TIMEOUT) break;
        if (ev.event === 'ping') continue;
        out.push(ev);
        if (pred?.(ev)) break;
    }
    return out;
}

after(() => {
    for (const s of openStreams) s.abort();
});

describe('SSE replay with Last-Event-ID', () => {
    let session;
    const earlier = [];

    before(async () => {
        const c = srv.client;
        const env = await c.beta.environments.create({ name: uniq('replay-env-') });
        const agent = await c.beta.agents.create({ name: uniq('replay-agent-'), model: 'claude-sonnet-4-6' });
        session = await c.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        for (const t of ['history 1', 'history 2'])
            earlier.push((await c.beta.sessions.events.send(session.id, { events: [userMessage(t)] })).data[0]);
    });

    test('every event carries id: and is named message, then a reconnect replays exactly what was missed', async () => {
        const first = await openStream(session.id);
        assert.equal(first.res.status, 200, `stream status ${first.res.status}`);
        assert.match(first.res.headers.get('content-type') ?? '', /^text\/event-stream/);

        const live = (await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('live one')] })).data[0];
        const seen = await readUntil(first, (ev) => ev.json?.id === live.id, 10_000);
        const hit = seen.find((ev) => ev.json?.id === live.id);
        assert.ok(hit, `live event not received on the raw stream; got ${JSON.stringify(seen)}`);
        for (const ev of seen) {
            assert.ok(ev.id, `SSE event without id: ${JSON.stringify(ev)}`);
            // Named `message` like the hosted API's frames (SDK 0.86.x yields no other name);
            // the type is in the JSON.
            assert.equal(ev.event, 'message', 'SSE event: line is message');
            assert.equal(typeof ev.json?.type, 'string', 'the JSON carries the type');
        }
        const lastId = seen.at(-1).id;
        first.abort();

        const missed = [];
        for (const t of ['missed 1', 'missed 2', 'missed 3'])
            missed.push((await srv.client.beta.sessions.events.send(session.id, { events: [userMessage(t)] })).data[0]);

        const second = await openStream(session.id, lastId);
        assert.equal(second.res.status, 200);
        // Everything that arrives within a grace period after the last missed event.
        const replayed = await readUntil(second, (ev) => ev.json?.id === missed[2].id, 10_000);
        replayed.push(...(await readUntil(second, null, 750)));
        second.abort();

        assert.deepEqual(
            replayed.map((ev) => ev.json?.id),
            missed.map((e) => e.id),
            'exactly the 3 missed events, once each, in order',
        );
        assert.deepEqual(
            replayed.map((ev) => ev.json.content[0].text),
            ['missed 1', 'missed 2', 'missed 3'],
        );
        const sseIds = replayed.map((ev) => ev.id);
        assert.ok(sseIds.every(Boolean), 'replayed events carry id:');
        assert.equal(new Set([lastId, ...sseIds]).size, 4, 'SSE ids are unique');
        assert.ok(!sseIds.includes(lastId), 'the acknowledged event is not sent again');
    });

    test('reconnect at the newest id replays nothing, then goes live', async () => {
        const probe = await openStream(session.id);
        const marker = (await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('marker')] })).data[0];
        const seen = await readUntil(probe, (ev) => ev.json?.id === marker.id, 10_000);
        assert.ok(seen.length > 0, 'marker received');
        const newest = seen.at(-1).id;
        probe.abort();

        const s = await openStream(session.id, newest);
        const quiet = await readUntil(s, null, 750);
        assert.deepEqual(quiet.map((ev) => ev.json?.id), [], 'nothing replayed when fully caught up');
        const next = (await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('after')] })).data[0];
        const got = await readUntil(s, (ev) => ev.json?.id === next.id, 10_000);
        s.abort();
        assert.deepEqual(got.map((ev) => ev.json?.id), [next.id]);
    });

    test('a stream without Last-Event-ID does not replay history', async () => {
        const s = await openStream(session.id);
        const quiet = await readUntil(s, null, 750);
        s.abort();
        const ids = quiet.map((ev) => ev.json?.id);
        for (const e of earlier) assert.ok(!ids.includes(e.id), 'history is not replayed on a fresh stream');
    });
});
