// "Allow for the rest of this session" (README "Allow for the rest of a session"): an allow sent
// with the Vivarium extension `vivarium_scope: "session"` on `user.tool_confirmation` is a
// session-level permission override kept in the backend. The runtime allows that tool's later
// calls itself — no GUI and no client answering — and the override survives kill -9 and a
// restart (it is rebuilt from the event log). Driven through the official SDK with no GUI open.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startScriptedProvider } from '../provider/scripted-provider.mjs';
import { BadRequestError, catchError, collect, recordSecret, sleep, startServer, uniq, userMessage, waitEvents } from './helpers.mjs';

const ANTHROPIC_KEY = recordSecret(`sk-ant-scripted-${uniq()}${uniq()}`);
let provider;
before(async () => {
    provider = await startScriptedProvider();
});
after(async () => provider?.close());
const serverEnv = () => ({ ANTHROPIC_BASE_URL: provider.url, ANTHROPIC_API_KEY: ANTHROPIC_KEY });

const idles = (events) => events.filter((e) => e.type === 'session.status_idle');
const uses = (events) => events.filter((e) => e.type === 'agent.tool_use');

// bash and read, both behind always_ask.
const askAgent = {
    tools: [{
        type: 'agent_toolset_20260401', default_config: { enabled: false },
        configs: [
            { name: 'bash', enabled: true, permission_policy: { type: 'always_ask' } },
            { name: 'read', enabled: true, permission_policy: { type: 'always_ask' } },
        ],
    }],
};

async function newSession(client) {
    const env = await client.beta.environments.create({ name: `allow-${uniq()}` });
    const agent = await client.beta.agents.create({ name: `allow-${uniq()}`, model: 'claude-sonnet-4-6', ...askAgent });
    return client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
}

describe('allow for the rest of the session (vivarium_scope)', () => {
    test('bad values are refused with a 400 naming the field, and nothing is written', async () => {
        const server = await startServer({ env: serverEnv() });
        try {
            provider.reset();
            provider.enqueue({ tool_calls: [{ name: 'bash', input: { command: 'echo 1' } }] });
            const session = await newSession(server.client);
            await server.client.beta.sessions.events.send(session.id, { events: [userMessage('go')] });
            const events = await waitEvents(server.client, session.id, (ev) => idles(ev).length >= 1);
            const use = uses(events)[0];
            for (const [extra, pattern] of [
                [{ result: 'deny', vivarium_scope: 'session' }, /vivarium_scope.*only allowed when `result` is "allow"/],
                [{ result: 'allow', vivarium_scope: 'forever' }, /vivarium_scope/],
                [{ result: 'allow', vivarium_scope: 1 }, /vivarium_scope/],
            ]) {
                const err = await catchError(() => server.client.beta.sessions.events.send(session.id, {
                    events: [{ type: 'user.tool_confirmation', tool_use_id: use.id, ...extra }],
                }));
                assert.ok(err instanceof BadRequestError, `expected a 400 for ${JSON.stringify(extra)}, got ${err}`);
                assert.equal(err.error?.error?.type, 'invalid_request_error');
                assert.match(err.error.error.message, pattern);
            }
            const after = await collect(server.client.beta.sessions.events.list(session.id));
            assert.equal(after.length, events.length, 'a refused request writes nothing');
            assert.ok(!after.some((e) => e.type === 'user.tool_confirmation'));
        } finally {
            await server.stop();
        }
    });

    test('one allow answers the waiting calls of that tool and every later one, across kill -9 and a restart; other tools still ask', async () => {
        const first = await startServer({ env: serverEnv() });
        let second;
        try {
            provider.reset();
            provider.enqueue(
                { tool_calls: [{ name: 'bash', input: { command: 'echo 1' } }, { name: 'bash', input: { command: 'echo 2' } }] },
                { tool_calls: [{ name: 'bash', input: { command: 'echo 3' } }] },
                { text: 'done before the restart' },
            );
            const session = await newSession(first.client);
            await first.client.beta.sessions.events.send(session.id, { events: [userMessage('run things')] });
            let events = await waitEvents(first.client, session.id, (ev) => idles(ev).length >= 1);
            const [a, b] = uses(events);
            assert.deepEqual(idles(events)[0].stop_reason, { type: 'requires_action', event_ids: [a.id, b.id] });

            const sent = await first.client.beta.sessions.events.send(session.id, {
                events: [{ type: 'user.tool_confirmation', tool_use_id: a.id, result: 'allow', vivarium_scope: 'session' }],
            });
            assert.equal(sent.data[0].vivarium_scope, 'session', 'the extension is echoed');
            const confirmationId = sent.data[0].id;
            // Nobody answers b or the later call: the backend does.
            events = await waitEvents(first.client, session.id,
                (ev) => idles(ev).some((i) => i.stop_reason?.type === 'end_turn'));
            assert.equal(idles(events).length, 2, 'no further requires_action after the session-wide allow');
            const later = uses(events)[2];
            assert.equal(later.input.command, 'echo 3');
            assert.equal(later.evaluated_permission, 'allow');
            assert.deepEqual(later.evaluation, { type: 'always_allow', vivarium_allowed_by: confirmationId });
            const results = events.filter((e) => e.type === 'agent.tool_result').map((e) => e.tool_use_id);
            assert.deepEqual(results.sort(), [a.id, b.id, later.id].sort(), 'all three bash calls ran (no sandbox: error results)');
            assert.equal(provider.requests.length, 3);

            await first.kill9();
            second = await startServer({ env: serverEnv(), dataDir: first.dataDir, apiKey: first.apiKey });
            provider.enqueue(
                { tool_calls: [{ name: 'bash', input: { command: 'echo 4' } }, { name: 'read', input: { file_path: '/etc/hostname' } }] },
                { text: 'done after the restart' },
            );
            await second.client.beta.sessions.events.send(session.id, { events: [userMessage('again')] });
            events = await waitEvents(second.client, session.id, (ev) => idles(ev).length >= 3);
            const [bash4, read] = uses(events).slice(3);
            assert.equal(bash4.name, 'bash');
            assert.equal(bash4.evaluated_permission, 'allow', 'the override survived kill -9 and the restart');
            assert.deepEqual(bash4.evaluation, { type: 'always_allow', vivarium_allowed_by: confirmationId });
            assert.equal(read.name, 'read');
            assert.equal(read.evaluated_permission, 'ask', 'only the allowed tool is overridden');
            assert.deepEqual(idles(events).at(-1).stop_reason, { type: 'requires_action', event_ids: [read.id] });

            await second.client.beta.sessions.events.send(session.id, {
                events: [{ type: 'user.tool_confirmation', tool_use_id: read.id, result: 'deny' }],
            });
            events = await waitEvents(second.client, session.id, (ev) => idles(ev).length >= 4);
            assert.deepEqual(idles(events).at(-1).stop_reason, { type: 'end_turn' });
            assert.equal(provider.requests.length, 5);
        } finally {
            await second?.stop();
            await first.stop();
        }
    });
});
