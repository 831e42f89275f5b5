// Custom tool names the runtime itself uses (docs/DESIGN.md "Tool names"). Besides the agent's
// own tools, the model of a session's primary thread is offered `advisor` when the agent has an
// advisor, `list_agents` and `send_to_agent` when it coordinates a roster, and
// `mcp__<server>__<tool>` for its MCP servers' tools. A custom tool with such a name would put two
// tools of one name in the request, so it is a 400 naming `tools[i].name` and the feature, at
// agent create/update and, for a session's `agent` override of its tools, at session
// create/update (`agent.tools[i].name`). The names are not reserved otherwise: the official docs
// reserve none for custom tools, so an agent without the feature keeps its `advisor` tool.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { startScriptedProvider } from '../provider/scripted-provider.mjs';
import { collect, recordSecret, sleep, uniq, useServer, userMessage, waitEvents } from './helpers.mjs';

const KEY = recordSecret(`sk-ant-toolnames-${uniq()}${uniq()}`);
let provider;
let env;
const srv = useServer(
    async (ctx) => {
        env = await ctx.client.beta.environments.create({ name: `tn-${uniq()}` });
    },
    async () => {
        provider = await startScriptedProvider();
        return { env: { ANTHROPIC_BASE_URL: provider.url, ANTHROPIC_API_KEY: KEY,
            VIVARIUM_MODEL_RETRY_BASE_MS: '50', VIVARIUM_MODEL_MAX_RETRIES: '1' } };
    },
);
after(async () => provider?.close());

const MODEL = 'claude-sonnet-4-6';
const ADVISOR = { type: 'advisor', model: 'claude-opus-4-8' };
const custom = (name) => ({ type: 'custom', name, description: `the user's own ${name}`,
    input_schema: { type: 'object', properties: {} } });

/** Asserts a 400 invalid_request_error whose message names `field` and matches `pattern`. */
async function refused(promise, field, pattern) {
    await assert.rejects(promise, (e) => {
        assert.equal(e.status, 400, e.message);
        assert.equal(e.error?.error?.type, 'invalid_request_error');
        const message = e.error?.error?.message ?? '';
        assert.ok(message.startsWith(`\`${field}\`: `), `expected ${field} in: ${message}`);
        assert.match(message, pattern);
        return true;
    });
}

describe('tool names the runtime uses', () => {
    test('a custom `advisor` beside an advisor is refused at agent create and update, naming tools[i].name', async () => {
        const client = srv.client;
        const before = (await collect(client.beta.agents.list())).length;
        // A coordinator roster's advisor entry, alone or beside a roster agent.
        await refused(client.beta.agents.create({ name: `A-${uniq()}`, model: MODEL,
            tools: [custom('lookup'), custom('advisor')], multiagent: { type: 'coordinator', agents: [ADVISOR] } }),
        'tools[1].name', /advisor tool.*multiagent\.agents/);
        // multiagent_20261001's enabled advisor.
        await refused(client.beta.agents.create({ name: `A-${uniq()}`, model: MODEL, tools: [custom('advisor')],
            multiagent: { type: 'multiagent_20261001', advisor: { type: 'enabled', model: 'claude-opus-4-8' } } }),
        'tools[0].name', /advisor tool.*multiagent\.advisor/);
        assert.equal((await collect(client.beta.agents.list())).length, before, 'nothing stored');

        // Update: adding the advisor to an agent that has the tool, or the tool to an advised agent.
        const plain = await client.beta.agents.create({ name: `A-${uniq()}`, model: MODEL, tools: [custom('advisor')] });
        await refused(client.beta.agents.update(plain.id, { version: plain.version,
            multiagent: { type: 'coordinator', agents: [ADVISOR] } }), 'tools[0].name', /advisor/);
        const advised = await client.beta.agents.create({ name: `A-${uniq()}`, model: MODEL,
            multiagent: { type: 'coordinator', agents: [ADVISOR] } });
        await refused(client.beta.agents.update(advised.id, { version: advised.version, tools: [custom('advisor')] }),
            'tools[0].name', /advisor/);
        assert.equal((await client.beta.agents.retrieve(plain.id)).version, plain.version, 'unchanged');
        assert.equal((await client.beta.agents.retrieve(advised.id)).version, advised.version, 'unchanged');
    });

    test('a custom `list_agents` or `send_to_agent` on a coordinator with a roster is refused', async () => {
        const client = srv.client;
        const worker = await client.beta.agents.create({ name: `W-${uniq()}`, model: MODEL });
        for (const name of ['list_agents', 'send_to_agent']) {
            await refused(client.beta.agents.create({ name: `C-${uniq()}`, model: MODEL, tools: [custom(name)],
                multiagent: { type: 'coordinator', agents: [worker.id] } }), 'tools[0].name',
            new RegExp(`"${name}" is the name of a delegation tool`));
            await refused(client.beta.agents.create({ name: `C-${uniq()}`, model: MODEL, tools: [custom(name)],
                multiagent: { type: 'coordinator', agents: [{ type: 'self' }] } }), 'tools[0].name', /delegation/);
        }
        const lead = await client.beta.agents.create({ name: `C-${uniq()}`, model: MODEL,
            multiagent: { type: 'coordinator', agents: [worker.id] } });
        await refused(client.beta.agents.update(lead.id, { tools: [custom('x'), custom('send_to_agent')] }),
            'tools[1].name', /delegation/);
    });

    test('a custom tool named like an MCP server\'s tools is refused, naming the server', async () => {
        const client = srv.client;
        const servers = [{ type: 'url', name: 'other', url: 'http://127.0.0.1:9/mcp' },
            { type: 'url', name: 'docs', url: 'http://127.0.0.1:9/mcp' }];
        await refused(client.beta.agents.create({ name: `M-${uniq()}`, model: MODEL, mcp_servers: servers,
            tools: [custom('mcp__docs__search')] }), 'tools[0].name', /MCP server "docs" \(`mcp_servers\[1\]`\)/);
        // Another server's prefix, or none, is an ordinary name.
        const fine = await client.beta.agents.create({ name: `M-${uniq()}`, model: MODEL, mcp_servers: servers,
            tools: [custom('mcp__wiki__search'), custom('docs_search')] });
        assert.deepEqual(fine.tools.filter((t) => t.type === 'custom').map((t) => t.name),
            ['mcp__wiki__search', 'docs_search']);
        await refused(client.beta.agents.update(fine.id, { version: fine.version,
            mcp_servers: [...servers, { type: 'url', name: 'wiki', url: 'http://127.0.0.1:9/mcp' }] }),
        'tools[0].name', /MCP server "wiki"/);
    });

    test('a session\'s agent override of its tools is checked at session create and update (agent.tools[i].name)', async () => {
        const client = srv.client;
        const advised = await client.beta.agents.create({ name: `S-${uniq()}`, model: MODEL,
            multiagent: { type: 'coordinator', agents: [ADVISOR] } });
        const sessionsBefore = (await collect(client.beta.sessions.list())).length;
        await refused(client.beta.sessions.create({ environment_id: env.id,
            agent: { type: 'agent_with_overrides', id: advised.id, tools: [custom('advisor')] } }),
        'agent.tools[0].name', /advisor tool/);
        assert.equal((await collect(client.beta.sessions.list())).length, sessionsBefore, 'no session created');
        const session = await client.beta.sessions.create({ environment_id: env.id,
            agent: { type: 'agent_with_overrides', id: advised.id, tools: [custom('lookup')] } });
        await refused(client.beta.sessions.update(session.id, { agent: { tools: [custom('advisor')] } }),
            'agent.tools[0].name', /advisor tool/);
        assert.deepEqual((await client.beta.sessions.retrieve(session.id)).agent.tools.map((t) => t.name), ['lookup']);
    });

    test('without the feature the names are the agent\'s own: one `advisor` offered, and calling it is a custom tool call', async () => {
        const client = srv.client;
        provider.reset();
        const worker = await client.beta.agents.create({ name: `W-${uniq()}`, model: MODEL });
        // No multiagent: all three names are custom tools.
        const agent = await client.beta.agents.create({ name: `P-${uniq()}`, model: MODEL,
            tools: [custom('advisor'), custom('list_agents'), custom('send_to_agent')] });
        assert.deepEqual(agent.tools.map((t) => t.name), ['advisor', 'list_agents', 'send_to_agent']);
        // A roster of only an advisor delegates to nobody: no delegation tools, so send_to_agent is free.
        await client.beta.agents.create({ name: `P-${uniq()}`, model: MODEL, tools: [custom('send_to_agent')],
            multiagent: { type: 'coordinator', agents: [ADVISOR] } });
        // A roster member keeps them too: a delegate thread is offered neither the delegation
        // tools nor the advisor (only the primary thread is).
        await client.beta.agents.create({ name: `P-${uniq()}`, model: MODEL,
            multiagent: { type: 'coordinator', agents: [agent.id, worker.id] } });

        provider.setDefault(() => ({ text: 'asking', tool_calls: [{ name: 'advisor', input: {} }] }));
        const session = await client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        await client.beta.sessions.events.send(session.id, { events: [userMessage('go')] });
        const events = await waitEvents(client, session.id, (ev) => ev.some((e) => e.type === 'session.status_idle'));
        const names = provider.requests[0].body.tools.map((t) => t.name);
        assert.deepEqual(names.filter((n) => n === 'advisor'), ['advisor'], `offered: ${names}`);
        const use = events.find((e) => e.type === 'agent.custom_tool_use');
        assert.equal(use?.name, 'advisor');
        assert.equal(events.find((e) => e.type === 'session.status_idle').stop_reason.type, 'requires_action');
        assert.equal(events.filter((e) => e.type === 'session.thread_created').length, 0, 'no consultation');
    });
});
