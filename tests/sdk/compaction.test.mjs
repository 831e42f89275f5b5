// Context compaction through the official SDK (issue 15 item 4): when a conversation nears its
// model's context window (here a 4000-token window configured for claude-sonnet-4-6 through
// VIVARIUM_MODEL_CONTEXT_WINDOWS), the older turns are summarised by a separate model request —
// the compactor, whose system prompt starts "You are a context compactor" — and replaced in the
// model's view by the summary; agent.thread_context_compacted (exactly the SDK's fields) says so;
// the event log keeps every original event; the compaction survives a kill -9.
//
// Sizes: the trigger is 80 % of the window (3200 tokens), the kept recent part at most 25 %
// (1000 tokens ≈ 4000 bytes). The runtime estimates a request as the larger of its JSON bytes / 4
// and the last response's usage plus what was logged since: a reply with usage.input_tokens 3300
// makes the next request compact.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { idles, isTimestamp, ofType, recordSecret, restartServer, sleep, uniq, userMessage, useScriptedServer, waitEvents } from './helpers.mjs';

const KEY = recordSecret(`sk-ant-compaction-${uniq()}${uniq()}`);
const MODEL = 'claude-sonnet-4-6';
const serverEnv = () => ({
    ANTHROPIC_BASE_URL: srv.provider.url,
    ANTHROPIC_API_KEY: KEY,
    VIVARIUM_MODEL_RETRY_BASE_MS: '50',
    VIVARIUM_MODEL_MAX_RETRIES: '1',
    VIVARIUM_SANDBOX_TOOLS: '0', // built-in tools answer "no sandbox" at once: real tool_use/tool_result pairs
    VIVARIUM_MODEL_CONTEXT_WINDOWS: JSON.stringify({ [MODEL]: 4000 }),
});

const srv = useScriptedServer({ environment: 'cmp', env: serverEnv });

const isCompactor = (r) => typeof r.body.system === 'string' && r.body.system.startsWith('You are a context compactor');
const text = (r) => JSON.stringify(r.body.messages);
/** Every tool_result of a request answers a tool_use of the same request, and every tool_use has its result. */
function assertPairsIntact(r) {
    const uses = new Set();
    const results = new Set();
    for (const m of r.body.messages)
        for (const b of typeof m.content === 'string' ? [] : m.content) {
            if (b.type === 'tool_use') uses.add(b.id);
            if (b.type === 'tool_result') results.add(b.tool_use_id);
        }
    assert.deepEqual([...results].sort(), [...uses].sort(), 'tool_use / tool_result pairs intact');
}

const ALPHA = `ALPHA-MARKER ${'alpha '.repeat(830)}`; // ≈ 5000 bytes
const BRAVO = `BRAVO-MARKER ${'bravo '.repeat(830)}`;
const SUMMARY = 'SUMMARY-7f3a: the user sent two long texts (alpha, bravo); a read of notes.txt failed (no sandbox).';

async function newSession() {
    const agent = await srv.client.beta.agents.create({
        name: `cmp-${uniq()}`, model: MODEL, system: 'You are the compaction test agent.',
        tools: [{ type: 'agent_toolset_20260401', default_config: { enabled: false },
            configs: [{ name: 'read', enabled: true, permission_policy: { type: 'always_allow' } }] }],
    });
    return srv.client.beta.sessions.create({ agent: agent.id, environment_id: srv.environment.id });
}

/** Two long turns (one with a tool call); the second answer's usage puts the next request at the trigger. */
async function longHistory(session, lastUsage = { input_tokens: 3300, output_tokens: 20 }) {
    srv.provider.enqueue(
        { tool_calls: [{ name: 'read', input: { file_path: 'notes.txt' } }] },
        { text: 'Alpha noted.' },
        { text: 'Bravo noted.', usage: lastUsage },
    );
    await srv.client.beta.sessions.events.send(session.id, { events: [userMessage(ALPHA)] });
    await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 1);
    await srv.client.beta.sessions.events.send(session.id, { events: [userMessage(BRAVO)] });
    await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 2);
}

describe('context compaction', () => {
    let compactedSession; // the first test's session, restarted in the second
    let compactedEventId;

    test('a request near the window is compacted: summary call, event, shorter request with the summary, log intact', async () => {
        srv.provider.reset();
        const session = await newSession();
        await longHistory(session, { input_tokens: 10, output_tokens: 5 });
        const before = srv.provider.requests.length;
        assert.ok(!srv.provider.requests.some(isCompactor), 'no compaction below the trigger');

        // Turn 3: a tool call whose reply reports 3300 input tokens: the request after its result
        // (mid-turn, with a tool pair in the recent part) is compacted first.
        srv.provider.enqueue(
            { tool_calls: [{ name: 'read', input: { file_path: 'CHARLIE.txt' } }], usage: { input_tokens: 3300, output_tokens: 30 } },
            { text: SUMMARY, usage: { input_tokens: 1000000, output_tokens: 100000 } }, // the compactor
            { text: 'Charlie done.' },
        );
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('CHARLIE-MARKER: read CHARLIE.txt')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 3);
        assert.deepEqual(idles(events)[2].stop_reason, { type: 'end_turn' });

        const reqs = srv.provider.requests.slice(before);
        assert.deepEqual(reqs.map(isCompactor), [false, true, false], 'agent, compactor, agent');
        const [agentBefore, compactor, agentAfter] = reqs;
        // The compactor: its own system prompt, no tools, the older turns (not the kept recent part).
        assert.equal(compactor.body.tools, undefined);
        assert.ok(!JSON.stringify(compactor.body).includes('You are the compaction test agent.'));
        assert.match(text(compactor), /ALPHA-MARKER/);
        assert.match(text(compactor), /BRAVO-MARKER/);
        assert.match(text(compactor), /notes\.txt/, 'the first tool call is summarised with its result');
        assert.ok(!text(compactor).includes('CHARLIE-MARKER'), 'the recent turn is kept, not summarised');
        assert.equal(compactor.body.model, MODEL, 'same model');

        // The next agent request: shorter, starts from the summary, the old turns are gone.
        assert.ok(JSON.stringify(agentAfter.body).length < JSON.stringify(agentBefore.body).length / 2,
            `shorter: ${JSON.stringify(agentAfter.body).length} vs ${JSON.stringify(agentBefore.body).length}`);
        assert.equal(agentAfter.body.system, 'You are the compaction test agent.');
        assert.equal(agentAfter.body.messages[0].role, 'user');
        assert.match(JSON.stringify(agentAfter.body.messages[0]), /SUMMARY-7f3a/, 'the summary comes first');
        assert.ok(!text(agentAfter).includes('ALPHA-MARKER') && !text(agentAfter).includes('BRAVO-MARKER'));
        assert.match(text(agentAfter), /CHARLIE-MARKER/);
        assert.match(text(agentBefore), /ALPHA-MARKER/);
        assertPairsIntact(agentBefore);
        assertPairsIntact(agentAfter);
        assert.equal(agentAfter.body.messages.flatMap((m) => m.content).filter((b) => b.type === 'tool_use').length, 1,
            'the recent tool pair is kept whole');

        // The event: exactly the SDK's fields, after the tool result, before the next model request.
        const compacted = ofType(events, 'agent.thread_context_compacted');
        assert.equal(compacted.length, 1);
        assert.deepEqual(Object.keys(compacted[0]).sort(), ['id', 'processed_at', 'type']);
        assert.match(compacted[0].id, /^sevt_/);
        assert.ok(isTimestamp(compacted[0].processed_at));
        const at = events.indexOf(compacted[0]);
        assert.equal(events[at - 1].type, 'agent.tool_result');
        assert.equal(events[at + 1].type, 'span.model_request_start');
        assert.equal(ofType(events, 'span.model_request_start').length, 5, 'the compactor request is not an agent span');

        // The log keeps everything: every message in full, both tool pairs, every answer.
        const texts = ofType(events, 'user.message').map((e) => e.content[0].text);
        assert.deepEqual(texts, [ALPHA, BRAVO, 'CHARLIE-MARKER: read CHARLIE.txt']);
        assert.equal(ofType(events, 'agent.tool_use').length, 2);
        assert.equal(ofType(events, 'agent.tool_result').length, 2);
        assert.deepEqual(ofType(events, 'agent.message').map((e) => e.content[0].text), ['Alpha noted.', 'Bravo noted.', 'Charlie done.']);
        assert.ok(!JSON.stringify(events).includes('SUMMARY-7f3a'), 'the summary is not an event');

        // The summary request's tokens are the session's: usage and list cost count them.
        const s = await srv.client.beta.sessions.retrieve(session.id);
        const inputs = [10, 10, 10, 3300, 1000000, 10];
        const outputs = [5, 5, 5, 30, 100000, 5];
        assert.equal(s.usage.input_tokens, inputs.reduce((a, b) => a + b));
        assert.equal(s.usage.output_tokens, outputs.reduce((a, b) => a + b));
        const usd = inputs.reduce((a, b) => a + b) * 3 / 1e6 + outputs.reduce((a, b) => a + b) * 15 / 1e6;
        assert.deepEqual(s.usage.list_cost, { amount: String(Math.round(usd * 100)), currency: 'USD' });
        compactedSession = session;
        compactedEventId = compacted[0].id;
    });

    test('after kill -9 and a restart, the next request still starts from the summary', async () => {
        assert.ok(compactedSession, 'needs the previous test');
        await restartServer(srv, { kill9: true, env: serverEnv() });
        srv.provider.reset();
        srv.provider.enqueue({ text: 'Delta done.' });
        await srv.client.beta.sessions.events.send(compactedSession.id, { events: [userMessage('DELTA-MARKER')] });
        const events = await waitEvents(srv.client, compactedSession.id, (ev) => idles(ev).length >= 4);
        assert.deepEqual(idles(events)[3].stop_reason, { type: 'end_turn' });
        assert.equal(srv.provider.requests.length, 1, 'no new compaction');
        const r = srv.provider.requests[0];
        assert.match(JSON.stringify(r.body.messages[0]), /SUMMARY-7f3a/);
        assert.ok(!text(r).includes('ALPHA-MARKER') && !text(r).includes('BRAVO-MARKER'));
        assert.match(text(r), /CHARLIE-MARKER/);
        assert.match(text(r), /Charlie done\./);
        assert.match(text(r), /DELTA-MARKER/);
        assertPairsIntact(r);
        assert.deepEqual(ofType(events, 'agent.thread_context_compacted').map((e) => e.id), [compactedEventId]);
        assert.equal(ofType(events, 'user.message').length, 4, 'the log still has every message');
    });

    test('a second compaction summarises the first summary with the turns after it', async () => {
        assert.ok(compactedSession, 'needs the first test');
        srv.provider.reset();
        srv.provider.enqueue({ text: 'India noted.', usage: { input_tokens: 3300, output_tokens: 10 } });
        await srv.client.beta.sessions.events.send(compactedSession.id, { events: [userMessage('INDIA-MARKER')] });
        await waitEvents(srv.client, compactedSession.id, (ev) => idles(ev).length >= 5);
        srv.provider.enqueue({ text: 'SUMMARY-2b9c: alpha, bravo, charlie covered.' }, { text: 'Juliet done.' });
        await srv.client.beta.sessions.events.send(compactedSession.id, { events: [userMessage('JULIET-MARKER')] });
        const events = await waitEvents(srv.client, compactedSession.id, (ev) => idles(ev).length >= 6);
        assert.deepEqual(idles(events)[5].stop_reason, { type: 'end_turn' });
        const [, compactor, agent] = srv.provider.requests;
        assert.ok(isCompactor(compactor) && !isCompactor(agent));
        assert.match(text(compactor), /SUMMARY-7f3a/, 'the previous summary is summarised again');
        assert.match(text(compactor), /CHARLIE-MARKER/);
        assert.ok(!text(compactor).includes('JULIET-MARKER'));
        assert.match(JSON.stringify(agent.body.messages[0]), /SUMMARY-2b9c/);
        assert.ok(!text(agent).includes('SUMMARY-7f3a') && !text(agent).includes('CHARLIE-MARKER'), 'only the newest summary');
        assert.match(text(agent), /JULIET-MARKER/);
        assertPairsIntact(agent);
        assert.equal(ofType(events, 'agent.thread_context_compacted').length, 2);
        assert.equal(ofType(events, 'user.message').length, 6, 'the log still has every message');
    });

    test('a failed summary request: the turn goes on uncompacted while the request still fits the window', async () => {
        srv.provider.reset();
        const session = await newSession();
        await longHistory(session);
        srv.provider.enqueue({ error: { status: 400, message: 'compactor refused' } }, { text: 'Answered anyway.' });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('ECHO-MARKER')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 3);
        assert.deepEqual(idles(events)[2].stop_reason, { type: 'end_turn' });
        const reqs = srv.provider.requests.slice(-2);
        assert.deepEqual(reqs.map(isCompactor), [true, false]);
        assert.match(text(reqs[1]), /ALPHA-MARKER/, 'the full history, uncompacted');
        assert.match(text(reqs[1]), /ECHO-MARKER/);
        assert.equal(ofType(events, 'agent.thread_context_compacted').length, 0);
        assert.equal(ofType(events, 'session.error').length, 0);
        assert.equal(ofType(events, 'agent.message').at(-1).content[0].text, 'Answered anyway.');
    });

    test('a failed summary request when the request no longer fits: a clear session.error ends the turn', async () => {
        srv.provider.reset();
        const session = await newSession();
        await longHistory(session, { input_tokens: 4100, output_tokens: 20 });
        srv.provider.enqueue({ error: { status: 400, message: 'compactor refused' } });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('FOXTROT-MARKER')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 3);
        assert.deepEqual(idles(events)[2].stop_reason, { type: 'retries_exhausted' });
        const err = ofType(events, 'session.error').at(-1);
        assert.match(err.error.message, /Context compaction failed \(.*compactor refused\).*does not fit the model's context window \(4000 tokens\)/);
        assert.equal(err.error.retry_status.type, 'exhausted');
        assert.ok(!srv.provider.requests.slice(-1).some((r) => !isCompactor(r)), 'no agent request was sent after the failure');
        assert.equal(ofType(events, 'agent.thread_context_compacted').length, 0);
    });

    test('an interrupt during compaction stops it: idle at once, nothing recorded, the next turn is uncompacted-then-compacted', async () => {
        srv.provider.reset();
        const session = await newSession();
        await longHistory(session);
        const before = srv.provider.requests.length;
        srv.provider.enqueue({ text: 'a summary that never finishes', hang: true });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('GOLF-MARKER')] });
        await srv.provider.waitForRequests(before + 1);
        assert.ok(isCompactor(srv.provider.requests[before]));
        const t0 = Date.now();
        await srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 3);
        assert.ok(Date.now() - t0 < 5000);
        assert.deepEqual(idles(events)[2].stop_reason, { type: 'end_turn' });
        assert.equal(ofType(events, 'agent.thread_context_compacted').length, 0);
        for (let i = 0; i < 40 && !srv.provider.requests[before].closedEarly; ++i) await sleep(25);
        assert.equal(srv.provider.requests[before].closedEarly, true, 'the summary request was cancelled');
        assert.equal(srv.provider.requests.length, before + 1, 'no agent request after the interrupt');

        // The next message compacts (the estimate still comes from the 3300-token reply) and goes on.
        srv.provider.enqueue({ text: SUMMARY }, { text: 'Hotel done.' });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('HOTEL-MARKER')] });
        const later = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 4);
        assert.deepEqual(idles(later)[3].stop_reason, { type: 'end_turn' });
        assert.equal(ofType(later, 'agent.thread_context_compacted').length, 1);
        const last = srv.provider.requests.at(-1);
        assert.match(text(last), /SUMMARY-7f3a/);
        assert.match(text(last), /HOTEL-MARKER/);
    });
});
