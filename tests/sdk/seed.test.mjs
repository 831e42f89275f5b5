// The seed example, written the way a user of the official SDK writes it against the hosted
// service; only baseURL and the API key point at vivariumd.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Anthropic, readStreamUntil, recordSecret, useServer } from './helpers.mjs';

const srv = useServer();

describe('seed example', () => {
    let client;
    let environment;
    let agent;
    let vault;
    let credential;
    let session;
    let firstMessage;
    const token = recordSecret(`seed-bearer-${Date.now()}-${Math.random().toString(36).slice(2)}`);

    test('environment with pip packages and limited networking', async () => {
        // Exactly how a script builds its client for the hosted service, but for these two values.
        client = new Anthropic({ baseURL: srv.baseURL, apiKey: srv.apiKey });
        environment = await client.beta.environments.create({
            name: 'data-analysis',
            config: {
                type: 'cloud',
                packages: { pip: ['pandas', 'numpy', 'matplotlib'] },
                networking: { type: 'limited', allowed_hosts: ['api.example.com'] },
            },
        });
        assert.match(environment.id, /^env_/);
        assert.equal(environment.name, 'data-analysis');
        assert.deepEqual(environment.config.packages.pip, ['pandas', 'numpy', 'matplotlib']);
        assert.equal(environment.config.networking.type, 'limited');
        assert.deepEqual(environment.config.networking.allowed_hosts, ['api.example.com']);
    });

    test('agent with the agent toolset', async () => {
        agent = await client.beta.agents.create({
            name: 'Data analyst',
            model: 'claude-sonnet-4-6',
            system: 'You are a data analyst. Use Python to answer questions about CSV files.',
            tools: [{ type: 'agent_toolset_20260401' }],
        });
        assert.match(agent.id, /^agent_/);
        assert.equal(agent.version, 1);
        assert.equal(agent.name, 'Data analyst');
        assert.equal(agent.model.id, 'claude-sonnet-4-6');
        assert.deepEqual(
            agent.tools.map((t) => t.type),
            ['agent_toolset_20260401'],
        );
    });

    test('vault with a static_bearer credential', async () => {
        vault = await client.beta.vaults.create({ display_name: 'Alice', metadata: { external_user_id: 'usr_abc123' } });
        assert.match(vault.id, /^vlt_/);
        credential = await client.beta.vaults.credentials.create(vault.id, {
            display_name: 'Example API',
            auth: { type: 'static_bearer', token, mcp_server_url: 'https://mcp.example.com/mcp' },
        });
        assert.match(credential.id, /^vcrd_/);
        assert.equal(credential.vault_id, vault.id);
        assert.deepEqual(credential.auth, { type: 'static_bearer', mcp_server_url: 'https://mcp.example.com/mcp' });
        assert.ok(!JSON.stringify(credential).includes(token), 'token not echoed');
    });

    test('session with environment_id and vault_ids', async () => {
        session = await client.beta.sessions.create({
            agent: agent.id,
            environment_id: environment.id,
            vault_ids: [vault.id],
            title: 'Quarterly numbers',
        });
        assert.match(session.id, /^sesn_/);
        assert.equal(session.status, 'idle');
        assert.equal(session.environment_id, environment.id);
        assert.deepEqual(session.vault_ids, [vault.id]);
        assert.equal(session.agent.id, agent.id);
        assert.equal(session.agent.version, 1);
        assert.equal(session.title, 'Quarterly numbers');
        assert.ok(!JSON.stringify(session).includes(token), 'token not in the session');
    });

    test('send a user.message', async () => {
        const sent = await client.beta.sessions.events.send(session.id, {
            events: [
                {
                    type: 'user.message',
                    content: [{ type: 'text', text: 'What was the revenue growth in Q3?' }],
                },
            ],
        });
        assert.equal(sent.data.length, 1);
        firstMessage = sent.data[0];
        assert.match(firstMessage.id, /^sevt_/);
        assert.equal(firstMessage.type, 'user.message');
    });

    test('list events', async () => {
        const events = [];
        for await (const event of client.beta.sessions.events.list(session.id)) events.push(event);
        const userMessages = events.filter((e) => e.type === 'user.message');
        assert.equal(userMessages.length, 1);
        assert.equal(userMessages[0].id, firstMessage.id);
        assert.deepEqual(userMessages[0].content, [{ type: 'text', text: 'What was the revenue growth in Q3?' }]);
    });

    test('stream events', async () => {
        const stream = await client.beta.sessions.events.stream(session.id);
        const sent = await client.beta.sessions.events.send(session.id, {
            events: [{ type: 'user.message', content: [{ type: 'text', text: 'And in Q4?' }] }],
        });
        const seen = await readStreamUntil(stream, (event) => event.id === sent.data[0].id, 10_000);
        const echoed = seen.find((event) => event.id === sent.data[0].id);
        assert.ok(echoed, `the user.message did not arrive on the stream within 10 s; got ${JSON.stringify(seen)}`);
        assert.equal(echoed.type, 'user.message');
        assert.deepEqual(echoed.content, [{ type: 'text', text: 'And in Q4?' }]);
    });
});
