// The agent runtime through the official SDK, against a scripted model provider on loopback
// (tests/provider/scripted-provider.mjs) that speaks the Anthropic Messages and OpenAI chat
// completions wire formats, streaming included.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startScriptedProvider } from '../provider/scripted-provider.mjs';
import { collect, recordSecret, sleep, startServer, uniq, useServer, userMessage, waitEvents } from './helpers.mjs';

const ANTHROPIC_KEY = recordSecret(`sk-ant-scripted-${uniq()}${uniq()}`);
const OPENAI_KEY = recordSecret(`sk-oai-scripted-${uniq()}${uniq()}`);

let provider;
const serverEnv = () => ({
    ANTHROPIC_BASE_URL: provider.url,
    ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    OPENAI_BASE_URL: `${provider.url}/v1`,
    OPENAI_API_KEY: OPENAI_KEY,
    VIVARIUM_MODEL_RETRY_BASE_MS: '50',
    VIVARIUM_MODEL_MAX_RETRIES: '2',
});

let env;
const srv = useServer(
    async (ctx) => {
        env = await ctx.client.beta.environments.create({ name: `rt-${uniq()}` });
    },
    async () => {
        provider = await startScriptedProvider();
        return { env: serverEnv() };
    },
);
after(async () => provider?.close());

/** Polls the session's events until `pred(events)` holds; returns the events. */
const idleCount = (events) => events.filter((e) => e.type === 'session.status_idle').length;
const lastIdle = (events) => events.filter((e) => e.type === 'session.status_idle').at(-1);
const types = (events) => events.map((e) => e.type);

async function newSession(agentParams = {}, sessionParams = {}) {
    const agent = await srv.client.beta.agents.create({
        name: `rt-${uniq()}`,
        model: 'claude-sonnet-4-6',
        system: 'You are a scripted test agent.',
        ...agentParams,
    });
    const session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: env.id, ...sessionParams });
    return { agent, session };
}

/** An agent whose only tool is bash, behind always_ask. */
const askAgent = {
    tools: [{ type: 'agent_toolset_20260401', default_config: { enabled: false }, configs: [{ name: 'bash', enabled: true, permission_policy: { type: 'always_ask' } }] }],
};

/** Runs `fn(p)` with its own scripted provider `p` as the file's provider (for tests that start their own servers). */
async function withOwnProvider(fn) {
    const p = await startScriptedProvider();
    const saved = provider;
    provider = p;
    try {
        return await fn(p);
    } finally {
        provider = saved;
        await p.close();
    }
}

/** The text of the last user text block the model was sent (consecutive user turns merge). */
function lastUserText(request) {
    const msgs = request.body.messages.filter((m) => m.role === 'user');
    const content = msgs.at(-1).content;
    if (typeof content === 'string') return content;
    return content.filter((b) => b.type === 'text').at(-1).text;
}

describe('a plain turn (Anthropic Messages, streaming)', () => {
    test('user.message → running → span → agent.message → span end → idle end_turn', async () => {
        provider.reset();
        provider.enqueue({ text: 'Hello from the scripted model.', usage: { input_tokens: 12, output_tokens: 7 } });
        const { session } = await newSession();
        const sent = await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('Hi there')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        assert.deepEqual(types(events), [
            'user.message',
            'session.status_running',
            'span.model_request_start',
            'agent.message',
            'span.model_request_end',
            'session.status_idle',
        ]);
        assert.equal(events[0].id, sent.data[0].id);
        assert.ok(typeof events[0].processed_at === 'string', 'the consumed user.message now has processed_at');
        assert.deepEqual(events[3].content, [{ type: 'text', text: 'Hello from the scripted model.' }]);
        assert.equal(events[4].model_request_start_id, events[2].id);
        assert.equal(events[4].is_error, false);
        assert.deepEqual(events[4].model_usage, { input_tokens: 12, output_tokens: 7, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
        assert.deepEqual(events[5].stop_reason, { type: 'end_turn' });
        const s = await srv.client.beta.sessions.retrieve(session.id);
        assert.equal(s.status, 'idle');

        assert.equal(provider.requests.length, 1);
        const req = provider.requests[0];
        assert.equal(req.path, '/v1/messages');
        assert.equal(req.headers['x-api-key'], ANTHROPIC_KEY, 'the key from ANTHROPIC_API_KEY');
        assert.equal(req.body.model, 'claude-sonnet-4-6');
        assert.equal(req.body.stream, true);
        assert.equal(req.body.system, 'You are a scripted test agent.');
        assert.deepEqual(req.body.messages, [{ role: 'user', content: [{ type: 'text', text: 'Hi there' }] }]);
        assert.ok(!srv.log().includes(ANTHROPIC_KEY), 'the provider key is never logged');
    });

    test('multi-turn: the second request carries the whole history', async () => {
        provider.reset();
        provider.enqueue({ text: 'First answer.' }, { text: 'Second answer.' });
        const { session } = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('first question')] });
        await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('second question')] });
        await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
        assert.equal(provider.requests.length, 2);
        assert.deepEqual(provider.requests[1].body.messages, [
            { role: 'user', content: [{ type: 'text', text: 'first question' }] },
            { role: 'assistant', content: [{ type: 'text', text: 'First answer.' }] },
            { role: 'user', content: [{ type: 'text', text: 'second question' }] },
        ]);
    });

    test('thinking is reported as agent.thinking; live previews stream event_start/event_delta, never persisted', async () => {
        provider.reset();
        provider.enqueue({ thinking: 'pondering', text: 'abcdefghijkl', chunks: 4, chunk_delay_ms: 30 });
        const { session } = await newSession();
        const stream = await srv.client.beta.sessions.events.stream(session.id, { event_deltas: ['agent.message', 'agent.thinking'] });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('think, then talk')] });
        const seen = [];
        const timer = setTimeout(() => stream.controller.abort(), 10_000);
        for await (const e of stream) {
            seen.push(e);
            if (e.type === 'session.status_idle') break;
        }
        clearTimeout(timer);
        const message = seen.find((e) => e.type === 'agent.message');
        assert.ok(message, `agent.message on the stream: ${types(seen)}`);
        const start = seen.find((e) => e.type === 'event_start' && e.event.type === 'agent.message');
        assert.ok(start, 'event_start for agent.message');
        assert.equal(start.event.id, message.id, 'the preview id is the final event id');
        const deltas = seen.filter((e) => e.type === 'event_delta' && e.event_id === message.id);
        assert.ok(deltas.length >= 2, `several deltas, got ${deltas.length}`);
        assert.equal(deltas.map((d) => d.delta.content.text).join(''), 'abcdefghijkl');
        assert.equal(deltas[0].delta.type, 'content_delta');
        assert.ok(seen.indexOf(start) < seen.indexOf(message) && seen.indexOf(deltas.at(-1)) < seen.indexOf(message));
        const thinkingStart = seen.find((e) => e.type === 'event_start' && e.event.type === 'agent.thinking');
        const thinking = seen.find((e) => e.type === 'agent.thinking');
        assert.ok(thinking && thinkingStart && thinkingStart.event.id === thinking.id, 'agent.thinking previewed start-only');
        const persisted = await collect(srv.client.beta.sessions.events.list(session.id));
        assert.ok(!persisted.some((e) => e.type === 'event_start' || e.type === 'event_delta'), 'previews are never persisted');
    });
});

describe('tools', () => {
    test('custom tool round trip: agent.custom_tool_use → requires_action → user.custom_tool_result → turn continues', async () => {
        provider.reset();
        provider.enqueue(
            { text: 'Let me check.', tool_calls: [{ name: 'get_weather', input: { city: 'Paris' } }] },
            { text: 'It is sunny in Paris.' },
        );
        const { session } = await newSession({
            tools: [{ type: 'custom', name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
        });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('Weather in Paris?')] });
        let events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const use = events.find((e) => e.type === 'agent.custom_tool_use');
        assert.ok(use, types(events).join(','));
        assert.equal(use.name, 'get_weather');
        assert.deepEqual(use.input, { city: 'Paris' });
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'requires_action', event_ids: [use.id] });
        assert.equal((await srv.client.beta.sessions.retrieve(session.id)).status, 'idle');
        assert.deepEqual(provider.requests[0].body.tools, [
            { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
        ]);

        await srv.client.beta.sessions.events.send(session.id, {
            events: [{ type: 'user.custom_tool_result', custom_tool_use_id: use.id, content: [{ type: 'text', text: '22°C, sunny' }] }],
        });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
        assert.equal(events.filter((e) => e.type === 'agent.message').at(-1).content[0].text, 'It is sunny in Paris.');
        const second = provider.requests[1].body.messages;
        assert.deepEqual(second.at(-2), {
            role: 'assistant',
            content: [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: use.id, name: 'get_weather', input: { city: 'Paris' } }],
        });
        assert.deepEqual(second.at(-1), { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: [{ type: 'text', text: '22°C, sunny' }] }] });
    });

    test('always_ask + allow: the tool runs through the executor (no sandbox → is_error result, nothing invented)', async () => {
        provider.reset();
        provider.enqueue({ tool_calls: [{ name: 'bash', input: { command: 'ls /' } }] }, { text: 'No sandbox, then.' });
        const { session } = await newSession(askAgent);
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('list /')] });
        let events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const use = events.find((e) => e.type === 'agent.tool_use');
        assert.equal(use.name, 'bash');
        assert.equal(use.evaluated_permission, 'ask');
        assert.deepEqual(use.evaluation, { type: 'always_ask' });
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'requires_action', event_ids: [use.id] });
        assert.deepEqual(provider.requests[0].body.tools.map((t) => t.name), ['bash'], 'only enabled tools are offered');
        assert.ok(!events.some((e) => e.type === 'agent.tool_result'), 'nothing runs before the confirmation');

        await srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.tool_confirmation', tool_use_id: use.id, result: 'allow' }] });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
        const result = events.find((e) => e.type === 'agent.tool_result');
        assert.equal(result.tool_use_id, use.id);
        assert.equal(result.is_error, true);
        assert.match(result.content[0].text, /no sandbox is available/);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
        const toolResult = provider.requests[1].body.messages.at(-1).content[0];
        assert.equal(toolResult.type, 'tool_result');
        assert.equal(toolResult.is_error, true);
        const confirmation = events.find((e) => e.type === 'user.tool_confirmation');
        assert.ok(typeof confirmation.processed_at === 'string', 'the confirmation was consumed');
    });

    test('always_ask + deny: the model gets an error result carrying deny_message', async () => {
        provider.reset();
        provider.enqueue({ tool_calls: [{ name: 'bash', input: { command: 'rm -rf /' } }] }, { text: 'Understood.' });
        const { session } = await newSession(askAgent);
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('clean up')] });
        let events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const use = events.find((e) => e.type === 'agent.tool_use');
        await srv.client.beta.sessions.events.send(session.id, {
            events: [{ type: 'user.tool_confirmation', tool_use_id: use.id, result: 'deny', deny_message: 'never delete the root' }],
        });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
        const result = events.find((e) => e.type === 'agent.tool_result');
        assert.equal(result.is_error, true);
        assert.match(result.content[0].text, /never delete the root/);
        const sentBack = provider.requests[1].body.messages.at(-1).content[0];
        assert.equal(sentBack.tool_use_id, use.id);
        assert.match(sentBack.content[0].text, /never delete the root/);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
    });

    test('always_allow: the tool runs at once, no confirmation, and the turn continues', async () => {
        provider.reset();
        provider.enqueue({ tool_calls: [{ name: 'bash', input: { command: 'uname -a' } }] }, { text: 'Ran it.' });
        const { session } = await newSession({
            tools: [{ type: 'agent_toolset_20260401', default_config: { enabled: false },
                configs: [{ name: 'bash', enabled: true, permission_policy: { type: 'always_allow' } }] }],
        });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('which kernel?')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        assert.equal(idleCount(events), 1, 'one idle: the turn never stopped for an action');
        const use = events.find((e) => e.type === 'agent.tool_use');
        assert.equal(use.evaluated_permission, 'allow');
        assert.deepEqual(use.evaluation, { type: 'always_allow' });
        const result = events.find((e) => e.type === 'agent.tool_result');
        assert.equal(result.tool_use_id, use.id);
        assert.equal(result.is_error, true);
        assert.match(result.content[0].text, /no sandbox is available/);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
        assert.equal(provider.requests.length, 2, 'the model got the result in a second request');
        assert.equal(provider.requests[1].body.messages.at(-1).content[0].tool_use_id, use.id);
    });

    test('answering fewer than all pending actions re-emits requires_action with the remainder', async () => {
        provider.reset();
        provider.enqueue(
            { tool_calls: [{ name: 'bash', input: { command: 'echo a' } }, { name: 'bash', input: { command: 'echo b' } }] },
            { text: 'Both answered.' },
        );
        const { session } = await newSession(askAgent);
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('two commands')] });
        let events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const [a, b] = events.filter((e) => e.type === 'agent.tool_use');
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'requires_action', event_ids: [a.id, b.id] });

        await srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.tool_confirmation', tool_use_id: a.id, result: 'allow' }] });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'requires_action', event_ids: [b.id] });
        assert.ok(!events.some((e) => e.type === 'agent.tool_result'), 'nothing runs until every action is answered');
        assert.equal(provider.requests.length, 1);

        await srv.client.beta.sessions.events.send(session.id, {
            events: [{ type: 'user.tool_confirmation', tool_use_id: b.id, result: 'deny', deny_message: 'not b' }],
        });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 3);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
        const results = Object.fromEntries(events.filter((e) => e.type === 'agent.tool_result').map((e) => [e.tool_use_id, e.content[0].text]));
        assert.match(results[a.id], /no sandbox is available/, 'the allowed call ran');
        assert.match(results[b.id], /not b/, 'the denied call carries the deny message');
    });

    test('a custom tool result with is_error reaches the model as an error result', async () => {
        provider.reset();
        provider.enqueue({ tool_calls: [{ name: 'lookup', input: { q: 'x' } }] }, { text: 'The lookup failed.' });
        const { session } = await newSession({
            tools: [{ type: 'custom', name: 'lookup', description: 'Look up', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }],
        });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('look up x')] });
        let events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const use = events.find((e) => e.type === 'agent.custom_tool_use');
        await srv.client.beta.sessions.events.send(session.id, {
            events: [{ type: 'user.custom_tool_result', custom_tool_use_id: use.id, is_error: true, content: [{ type: 'text', text: 'backend unreachable' }] }],
        });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
        assert.deepEqual(provider.requests[1].body.messages.at(-1), {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: use.id, is_error: true, content: [{ type: 'text', text: 'backend unreachable' }] }],
        });
    });

    test('auto policy: read-only tools run, others ask', async () => {
        provider.reset();
        provider.enqueue({ tool_calls: [{ name: 'read', input: { file_path: '/etc/hostname' } }, { name: 'write', input: { file_path: '/tmp/x', content: 'y' } }] });
        const { session } = await newSession({
            tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'auto' } } }],
        });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('read and write')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const [read, write] = events.filter((e) => e.type === 'agent.tool_use');
        assert.equal(read.evaluated_permission, 'allow');
        assert.deepEqual(read.evaluation, { type: 'auto', evaluated_permission: { type: 'allow' } });
        assert.equal(write.evaluated_permission, 'ask');
        assert.equal(write.evaluation.evaluated_permission.type, 'ask');
        assert.ok(events.some((e) => e.type === 'agent.tool_result' && e.tool_use_id === read.id), 'read ran (no sandbox → error result)');
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'requires_action', event_ids: [write.id] });
    });

    test('OpenAI-compatible turn with a tool call (chat completions, streaming)', async () => {
        provider.reset();
        provider.enqueue(
            { text: 'Calling.', tool_calls: [{ name: 'lookup', input: { q: 'vivarium' } }], usage: { input_tokens: 20, output_tokens: 4, cache_read_input_tokens: 5 } },
            { text: 'Found it.' },
        );
        const { session } = await newSession({
            model: 'openai/gpt-scripted',
            tools: [{ type: 'custom', name: 'lookup', description: 'Look up', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }],
        });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('look it up')] });
        let events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const use = events.find((e) => e.type === 'agent.custom_tool_use');
        assert.deepEqual(use.input, { q: 'vivarium' });
        const first = provider.requests[0];
        assert.equal(first.path, '/v1/chat/completions');
        assert.equal(first.headers.authorization, `Bearer ${OPENAI_KEY}`);
        assert.equal(first.body.model, 'gpt-scripted', 'the openai/ prefix is stripped');
        assert.equal(first.body.messages[0].role, 'system');
        assert.deepEqual(first.body.tools[0], { type: 'function', function: { name: 'lookup', description: 'Look up', parameters: { type: 'object', properties: { q: { type: 'string' } } } } });
        assert.equal(events.find((e) => e.type === 'span.model_request_end').model_usage.cache_read_input_tokens, 5);

        await srv.client.beta.sessions.events.send(session.id, {
            events: [{ type: 'user.custom_tool_result', custom_tool_use_id: use.id, content: [{ type: 'text', text: 'result-42' }] }],
        });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
        const msgs = provider.requests[1].body.messages;
        const assistant = msgs.find((m) => m.role === 'assistant');
        assert.equal(assistant.tool_calls[0].id, use.id);
        assert.equal(assistant.tool_calls[0].function.name, 'lookup');
        assert.deepEqual(JSON.parse(assistant.tool_calls[0].function.arguments), { q: 'vivarium' });
        assert.deepEqual(msgs.at(-1), { role: 'tool', tool_call_id: use.id, content: 'result-42' });
    });
});

describe('queue, interrupt, usage', () => {
    test('several user.message events sent while running are processed in order, one turn each', async () => {
        provider.reset();
        provider.enqueue({ text: 'one', delay_ms: 300 }, { text: 'two' }, { text: 'three' });
        const { session } = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('m1')] });
        await provider.waitForRequests(1);
        const queued = await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('m2'), userMessage('m3')] });
        assert.equal(queued.data[0].processed_at, null, 'queued while running');
        const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 3);
        assert.deepEqual(provider.requests.map(lastUserText), ['m1', 'm2', 'm3']);
        assert.deepEqual(events.filter((e) => e.type === 'agent.message').map((e) => e.content[0].text), ['one', 'two', 'three']);
    });

    test('interrupt during a slow stream: back to idle within 2 s; queued messages are dropped', async () => {
        provider.reset();
        provider.enqueue({ text: 'a very slow answer that never finishes', hang: true }, { text: 'after the interrupt' });
        const { session } = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('slow please'), userMessage('queued one')] });
        await provider.waitForRequests(1);
        await sleep(100);
        const t0 = Date.now();
        await srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
        let events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1, 2000);
        const elapsed = Date.now() - t0;
        assert.ok(elapsed < 2000, `idle after ${elapsed} ms`);
        const idleIdx = events.findIndex((e) => e.type === 'session.status_idle');
        assert.deepEqual(events[idleIdx].stop_reason, { type: 'end_turn' });
        // Issue 16 (a specified change: no half message used to be persisted): text streamed
        // before the interrupt is kept, marked, under a preview's id — and never replayed to the model.
        const halves = events.slice(0, idleIdx).filter((e) => e.type === 'agent.message');
        assert.ok(halves.length <= 1, 'at most the one streamed message');
        for (const half of halves) {
            assert.equal(half.vivarium_interrupted, true, 'a half message is marked interrupted');
            assert.ok('a very slow answer that never finishes'.startsWith(half.content[0].text), half.content[0].text);
        }
        assert.ok(events.slice(0, idleIdx).some((e) => e.type === 'span.model_request_end'), 'the span is closed');
        assert.equal(provider.requests[0].closedEarly, true, 'the HTTP request to the provider was aborted');
        // The interrupt forces the session idle: the queued message is consumed without a turn of
        // its own (official semantics) and reaches the model as history with the next message.
        await sleep(300);
        assert.equal(provider.requests.length, 1, 'no turn for the queued message');
        assert.ok(events.find((e) => e.type === 'user.message' && e.content[0].text === 'queued one').processed_at, 'consumed');
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('next')] });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
        assert.equal(lastUserText(provider.requests[1]), 'next');
        assert.ok(JSON.stringify(provider.requests[1].body.messages).includes('queued one'), 'the dropped message is history');
        assert.ok(!JSON.stringify(provider.requests[1].body.messages).includes('a very slow'), 'the half message is not history');
        assert.equal(events.filter((e) => e.type === 'agent.message').at(-1).content[0].text, 'after the interrupt');
    });

    test('interrupt while waiting for requires_action: the pending calls get error results, idle end_turn', async () => {
        provider.reset();
        provider.enqueue({ tool_calls: [{ name: 'bash', input: { command: 'echo 1' } }] }, { text: 'after' });
        const { session } = await newSession(askAgent);
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('ask me')] });
        let events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const use = events.find((e) => e.type === 'agent.tool_use');
        await srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2, 2000);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
        const result = events.find((e) => e.type === 'agent.tool_result');
        assert.equal(result.tool_use_id, use.id);
        assert.equal(result.is_error, true);
        assert.match(result.content[0].text, /Interrupted by the user before it ran/);
        // A late confirmation is refused (409: the call is no longer pending) and changes nothing;
        // the next message works and its history is valid.
        await assert.rejects(
            srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.tool_confirmation', tool_use_id: use.id, result: 'allow' }] }),
            (err) => err.status === 409 && /not pending/.test(err.error.error.message));
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('go on')] });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 3);
        assert.equal(events.filter((e) => e.type === 'agent.tool_result').length, 1, 'the interrupted call never ran');
        const msgs = provider.requests[1].body.messages;
        assert.ok(msgs.some((m) => m.role === 'user' && Array.isArray(m.content) && m.content.some((b) => b.type === 'tool_result' && b.tool_use_id === use.id)));
    });

    test('interrupt during the retry backoff: idle at once, no further attempt', async () => {
        provider.reset();
        provider.enqueue({ error: { status: 429, retry_after: 30 } }, { text: 'too late' });
        const { session } = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('rate limited')] });
        await waitEvents(srv.client, session.id, (ev) => ev.some((e) => e.type === 'session.status_rescheduled'));
        const t0 = Date.now();
        await srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
        const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1, 2000);
        assert.ok(Date.now() - t0 < 2000);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
        assert.equal((await srv.client.beta.sessions.retrieve(session.id)).status, 'idle');
        await sleep(300);
        assert.equal(provider.requests.length, 1, 'the backoff was cancelled');
    });

    test('a refused response ends the turn with stop_reason refusal and its stop_details', async () => {
        provider.reset();
        provider.enqueue({ text: 'I cannot help with that.', stop: 'refusal' });
        const { session } = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('something bad')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'refusal' });
        assert.deepEqual(lastIdle(events).stop_details, { type: 'refusal', category: null, explanation: null });
        const other = events.find((e) => e.type === 'session.status_idle' && e !== lastIdle(events));
        assert.equal(other, undefined);
    });

    test('usage accumulates across requests; stats.active_seconds grows', async () => {
        provider.reset();
        provider.enqueue(
            { text: 'a', usage: { input_tokens: 100, output_tokens: 10, cache_read_input_tokens: 30, cache_creation_input_tokens: 7 } },
            { text: 'b', usage: { input_tokens: 50, output_tokens: 5, cache_read_input_tokens: 20, cache_creation_input_tokens: 1 }, delay_ms: 50 },
        );
        const { session } = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('u1')] });
        await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('u2')] });
        await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
        const s = await srv.client.beta.sessions.retrieve(session.id);
        assert.equal(s.usage.input_tokens, 150);
        assert.equal(s.usage.output_tokens, 15);
        assert.equal(s.usage.cache_read_input_tokens, 50);
        assert.equal(s.usage.cache_creation.ephemeral_5m_input_tokens, 8);
        assert.ok(s.stats.active_seconds > 0.04, `active_seconds ${s.stats.active_seconds}`);
        assert.ok(s.stats.duration_seconds >= s.stats.active_seconds);
    });
});

describe('provider errors', () => {
    test('429 → retried with session.status_rescheduled, then retries_exhausted; the session works afterwards', async () => {
        provider.reset();
        provider.enqueue({ error: { status: 429 } }, { error: { status: 429 } }, { error: { status: 429 } });
        const { session } = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('rate limited')] });
        let events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const errors = events.filter((e) => e.type === 'session.error');
        assert.deepEqual(errors.map((e) => e.error.type), ['model_rate_limited_error', 'model_rate_limited_error', 'model_rate_limited_error']);
        assert.deepEqual(errors.map((e) => e.error.retry_status.type), ['retrying', 'retrying', 'exhausted']);
        assert.equal(events.filter((e) => e.type === 'session.status_rescheduled').length, 2);
        assert.equal(provider.requests.length, 3, 'first attempt + 2 retries');
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'retries_exhausted' });
        assert.ok(events.filter((e) => e.type === 'span.model_request_end').every((e) => e.is_error === true));

        provider.enqueue({ text: 'recovered' });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('again')] });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
        assert.equal(events.filter((e) => e.type === 'agent.message').at(-1).content[0].text, 'recovered');
    });

    test('529 and 500 are retried and a later success ends the turn normally', async () => {
        provider.reset();
        provider.enqueue({ error: { status: 529 } }, { error: { status: 500 } }, { text: 'third time lucky' });
        const { session } = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('flaky')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const errors = events.filter((e) => e.type === 'session.error');
        assert.deepEqual(errors.map((e) => e.error.type), ['model_overloaded_error', 'model_request_failed_error']);
        assert.ok(errors.every((e) => e.error.retry_status.type === 'retrying'));
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
        const statuses = events.filter((e) => e.type.startsWith('session.status_')).map((e) => e.type);
        assert.deepEqual(statuses, ['session.status_running', 'session.status_rescheduled', 'session.status_running',
            'session.status_rescheduled', 'session.status_running', 'session.status_idle']);
    });

    test('400 is not retried: one session.error (exhausted), idle with retries_exhausted', async () => {
        provider.reset();
        provider.enqueue({ error: { status: 400, message: 'prompt is too long' } });
        const { session } = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('bad')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const errors = events.filter((e) => e.type === 'session.error');
        assert.equal(errors.length, 1);
        assert.equal(errors[0].error.type, 'model_request_failed_error');
        assert.equal(errors[0].error.retry_status.type, 'exhausted');
        assert.match(errors[0].error.message, /400.*prompt is too long/);
        assert.equal(provider.requests.length, 1);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'retries_exhausted' });
        assert.equal((await srv.client.beta.sessions.retrieve(session.id)).status, 'idle');
    });
});

describe('provider errors inside the stream, timeouts', () => {
    test('an Anthropic error event mid-stream is classified and retried; nothing half-written is kept', async () => {
        provider.reset();
        provider.enqueue({ text: 'partial answer here', stream_error: { type: 'overloaded_error', message: 'busy' } }, { text: 'clean answer' });
        const { session } = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('hi')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const errors = events.filter((e) => e.type === 'session.error');
        assert.deepEqual(errors.map((e) => [e.error.type, e.error.retry_status.type]), [['model_overloaded_error', 'retrying']]);
        assert.deepEqual(events.filter((e) => e.type === 'agent.message').map((e) => e.content[0].text), ['clean answer']);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
    });

    test('OpenAI in-stream errors with string codes: rate limit is retried, invalid request is not', async () => {
        provider.reset();
        provider.enqueue(
            { text: 'partial', stream_error: { type: 'requests', code: 'rate_limit_exceeded', message: 'slow down' } },
            { text: 'after the rate limit' },
            { text: 'partial', stream_error: { type: 'invalid_request_error', code: 'context_length_exceeded', message: 'too long' } },
        );
        const { session } = await newSession({ model: 'openai/gpt-scripted' });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('one')] });
        let events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        let errors = events.filter((e) => e.type === 'session.error');
        assert.deepEqual(errors.map((e) => [e.error.type, e.error.retry_status.type]), [['model_rate_limited_error', 'retrying']]);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });

        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('two')] });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
        errors = events.filter((e) => e.type === 'session.error');
        assert.deepEqual(errors.at(-1).error.retry_status, { type: 'exhausted' });
        assert.match(errors.at(-1).error.message, /too long/);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'retries_exhausted' });
        assert.equal(provider.requests.length, 3, 'the invalid request was not retried');
    });

    test('a stream that stalls past VIVARIUM_MODEL_IDLE_TIMEOUT_MS, or a provider silent past VIVARIUM_MODEL_TIMEOUT_MS, fails the request; it is retried and the connection closed', async () => {
        const server = await startServer({ env: { ...serverEnv(), VIVARIUM_MODEL_IDLE_TIMEOUT_MS: '300', VIVARIUM_MODEL_TIMEOUT_MS: '400', VIVARIUM_MODEL_MAX_RETRIES: '1' } });
        try {
            provider.reset();
            provider.enqueue({ text: 'stalls after this', hang: true }, { text: 'second try' });
            const e = await server.client.beta.environments.create({ name: `to-${uniq()}` });
            const agent = await server.client.beta.agents.create({ name: `to-${uniq()}`, model: 'claude-sonnet-4-6' });
            const session = await server.client.beta.sessions.create({ agent: agent.id, environment_id: e.id });
            const t0 = Date.now();
            await server.client.beta.sessions.events.send(session.id, { events: [userMessage('slow')] });
            const events = await waitEvents(server.client, session.id, (ev) => idleCount(ev) >= 1);
            const err = events.find((x) => x.type === 'session.error');
            assert.equal(err.error.type, 'model_request_failed_error');
            assert.equal(err.error.retry_status.type, 'retrying');
            assert.match(err.error.message, /stalled for 0.3 s/);
            assert.equal(provider.requests[0].closedEarly, true, 'the stalled request was closed');
            assert.equal(events.filter((x) => x.type === 'agent.message').at(-1).content[0].text, 'second try');
            assert.ok(Date.now() - t0 < 5000, 'the stall was cut after the idle timeout');

            // No byte at all before the first-byte timeout.
            provider.enqueue({ text: 'far too late', delay_ms: 3000 }, { text: 'in time' });
            await server.client.beta.sessions.events.send(session.id, { events: [userMessage('again')] });
            const later = await waitEvents(server.client, session.id, (ev) => idleCount(ev) >= 2);
            const err2 = later.filter((x) => x.type === 'session.error').at(-1);
            assert.equal(err2.error.type, 'model_request_failed_error');
            assert.match(err2.error.message, /did not answer within 0.4 s/);
            assert.equal(provider.requests[2].closedEarly, true, 'the silent request was closed');
            assert.equal(later.filter((x) => x.type === 'agent.message').at(-1).content[0].text, 'in time');
        } finally {
            await server.stop();
        }
    });
});

describe('LLM vault', () => {
    test('a vault with vivarium.llm.* metadata and a static_bearer credential selects provider, URL and key', async () => {
        provider.reset();
        provider.enqueue({ text: 'via the vault' });
        const token = recordSecret(`vault-llm-token-${uniq()}${uniq()}`);
        const vault = await srv.client.beta.vaults.create({
            display_name: `llm-${uniq()}`,
            metadata: { 'vivarium.llm.provider': 'openai', 'vivarium.llm.base_url': `${provider.url}/v1` },
        });
        await srv.client.beta.vaults.credentials.create(vault.id, {
            display_name: 'model key',
            auth: { type: 'static_bearer', token, mcp_server_url: 'https://llm.invalid/mcp' },
        });
        const { session } = await newSession({ model: 'claude-sonnet-4-6' }, { vault_ids: [vault.id] });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('hello vault')] });
        await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const req = provider.requests[0];
        assert.equal(req.path, '/v1/chat/completions', 'the vault says openai');
        assert.equal(req.headers.authorization, `Bearer ${token}`, 'the key from the keychain');
        assert.equal(req.body.model, 'claude-sonnet-4-6', 'the model id is sent as the agent names it');
        assert.ok(!srv.log().includes(token));
    });
});

describe('durability: kill -9 mid-turn', () => {
    test('after restart no session is running: the turn is closed with session.error, queued input is flushed, the conversation continues', async () => {
        await withOwnProvider(async (p2) => {
            const first = await startServer({ env: serverEnv() });
            let second;
            try {
                p2.enqueue({ text: 'earlier answer' }, { text: 'never finishes', hang: true });
                const e2 = await first.client.beta.environments.create({ name: `k9-${uniq()}` });
                const agent = await first.client.beta.agents.create({ name: `k9-${uniq()}`, model: 'claude-sonnet-4-6', system: 'k9 system prompt' });
                const session = await first.client.beta.sessions.create({ agent: agent.id, environment_id: e2.id });
                await first.client.beta.sessions.events.send(session.id, { events: [userMessage('earlier question')] });
                await waitEvents(first.client, session.id, (ev) => idleCount(ev) >= 1);
                await first.client.beta.sessions.events.send(session.id, { events: [userMessage('long task'), userMessage('queued before the crash')] });
                await p2.waitForRequests(2);
                assert.equal((await first.client.beta.sessions.retrieve(session.id)).status, 'running');
                await first.kill9();

                second = await startServer({ env: serverEnv(), dataDir: first.dataDir, apiKey: first.apiKey });
                let events = await waitEvents(second.client, session.id, (ev) => idleCount(ev) >= 2);
                const err = events.find((e) => e.type === 'session.error');
                assert.equal(err.error.type, 'unknown_error');
                assert.match(err.error.message, /interrupted/);
                assert.deepEqual(err.error.retry_status, { type: 'exhausted' });
                assert.deepEqual(lastIdle(events).stop_reason, { type: 'retries_exhausted' });
                const spanStarts = events.filter((e) => e.type === 'span.model_request_start').length;
                const spanEnds = events.filter((e) => e.type === 'span.model_request_end').length;
                assert.equal(spanStarts, spanEnds, 'every span is closed');
                const queued = events.find((e) => e.type === 'user.message' && e.content[0].text === 'queued before the crash');
                assert.ok(typeof queued.processed_at === 'string', 'the queued message was flushed (exhausted semantics)');
                const s = await second.client.beta.sessions.retrieve(session.id);
                assert.equal(s.status, 'idle');
                const running = await collect(second.client.beta.sessions.list({ statuses: ['running', 'rescheduling'] }));
                assert.deepEqual(running, [], 'no session is left running');
                await sleep(300);
                assert.equal(p2.requests.length, 2, 'nothing was replayed or started on its own after the restart');

                // The next message continues the same conversation: everything before the crash is
                // rebuilt from the log and reaches the model.
                p2.enqueue({ text: 'continuing' });
                await second.client.beta.sessions.events.send(session.id, { events: [userMessage('are you there?')] });
                events = await waitEvents(second.client, session.id, (ev) => idleCount(ev) >= 3);
                assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
                const req = p2.requests[2].body;
                assert.equal(req.system, 'k9 system prompt');
                const texts = req.messages.flatMap((m) => (typeof m.content === 'string' ? [m.content]
                    : m.content.filter((b) => b.type === 'text').map((b) => b.text)));
                for (const t of ['earlier question', 'earlier answer', 'long task', 'queued before the crash', 'are you there?'])
                    assert.ok(texts.includes(t), `"${t}" reaches the model after the restart: ${JSON.stringify(texts)}`);
                assert.equal(texts.indexOf('earlier question') < texts.indexOf('earlier answer'), true);
                assert.equal(texts.at(-1), 'are you there?');
            } finally {
                await second?.stop();
                await first.stop();
            }
        });
    });

    test('a turn waiting for requires_action survives kill -9, including an answer given before it', async () => {
        await withOwnProvider(async (p2) => {
            const first = await startServer({ env: serverEnv() });
            let second;
            try {
                p2.enqueue({ tool_calls: [{ name: 'bash', input: { command: 'echo 1' } }, { name: 'bash', input: { command: 'echo 2' } }] });
                const e2 = await first.client.beta.environments.create({ name: `k9ra-${uniq()}` });
                const agent = await first.client.beta.agents.create({ name: `k9ra-${uniq()}`, model: 'claude-sonnet-4-6', ...askAgent });
                const session = await first.client.beta.sessions.create({ agent: agent.id, environment_id: e2.id });
                await first.client.beta.sessions.events.send(session.id, { events: [userMessage('two commands')] });
                let events = await waitEvents(first.client, session.id, (ev) => idleCount(ev) >= 1);
                const [a, b] = events.filter((e) => e.type === 'agent.tool_use');
                await first.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.tool_confirmation', tool_use_id: a.id, result: 'allow' }] });
                await waitEvents(first.client, session.id, (ev) => idleCount(ev) >= 2);
                await first.kill9();

                second = await startServer({ env: serverEnv(), dataDir: first.dataDir, apiKey: first.apiKey });
                await sleep(300);
                events = await collect(second.client.beta.sessions.events.list(session.id));
                assert.equal(idleCount(events), 2, 'the restart adds no idle: the session still waits');
                assert.deepEqual(lastIdle(events).stop_reason, { type: 'requires_action', event_ids: [b.id] });
                assert.equal((await second.client.beta.sessions.retrieve(session.id)).status, 'idle');

                p2.enqueue({ text: 'done after the restart' });
                await second.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.tool_confirmation', tool_use_id: b.id, result: 'deny', deny_message: 'skip 2' }] });
                events = await waitEvents(second.client, session.id, (ev) => idleCount(ev) >= 3);
                assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
                const results = Object.fromEntries(events.filter((e) => e.type === 'agent.tool_result').map((e) => [e.tool_use_id, e.content[0].text]));
                assert.match(results[a.id], /no sandbox is available/, 'the allow given before the crash still applied');
                assert.match(results[b.id], /skip 2/);
                assert.equal(p2.requests.length, 2);
                const toolResults = p2.requests[1].body.messages.at(-1).content.filter((c) => c.type === 'tool_result').map((c) => c.tool_use_id);
                assert.deepEqual(toolResults.sort(), [a.id, b.id].sort(), 'both results go back to the model (in log order)');
            } finally {
                await second?.stop();
                await first.stop();
            }
        });
    });
});
