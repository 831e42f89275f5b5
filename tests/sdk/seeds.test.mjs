// Seed scripts: the code of other Managed-Agents-compatible servers' docs, run through the
// official SDK against vivariumd with only the base URL and the key changed. The model vendor is
// the scripted provider (tests/provider/scripted-provider.mjs); each test checks what the model
// server received (URL path = wire format, key header, the user's text).
//
//   Sandbox0 (docs "Managed Agents → SDK Usage / Claude SDK / LLM Credentials"): the model key
//   lives in an LLM vault declared by sandbox0.managed_agents.* metadata, as an unbound
//   static_bearer credential; session metadata sandbox0.managed_agents.hard_ttl_seconds.
//   SandBase (docs "Agents overview / Sessions"): mcp_servers without an mcp_toolset, an
//   environment with config.resources, user.message content as a plain string; the model is the
//   server's own gateway (here: vivariumd's default endpoint).

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { startScriptedProvider } from '../provider/scripted-provider.mjs';
import { Anthropic, collect, readStreamUntil, recordSecret, useServer } from './helpers.mjs';

// The server's own default endpoint (SandBase's "LLM gateway" role) and the endpoint a Sandbox0
// LLM vault points at are two different scripted providers, so a request reaching one proves
// which configuration chose it.
let gateway;
let vaultModel;
const GATEWAY_KEY = recordSecret(`sk-ant-gateway-${Date.now().toString(36)}-0123456789`);

const srv = useServer(null, async () => {
    gateway = await startScriptedProvider();
    vaultModel = await startScriptedProvider();
    return { env: { ANTHROPIC_BASE_URL: gateway.url, ANTHROPIC_API_KEY: GATEWAY_KEY, OPENAI_BASE_URL: 'http://127.0.0.1:9' } };
});
after(async () => {
    await gateway?.close();
    await vaultModel?.close();
});

async function untilIdle(client, sessionId) {
    const stream = await client.beta.sessions.events.stream(sessionId);
    return readStreamUntil(stream, (e) => e.type === 'session.status_idle', 15_000);
}

describe('Sandbox0 seed', () => {
    test('the Claude SDK page flow: LLM vault with sandbox0.managed_agents.* metadata, an unbound static_bearer key, hard TTL metadata', async () => {
        // ---- the docs' code; only the API URL and key and the model endpoint/key differ ----
        // (Their "SDK Usage" page also passes authToken next to apiKey; SDK 1.10.0 itself refuses
        // that pair before any request, so the "Claude SDK" page's apiKey-only client is used.)
        const process = {
            env: {
                SANDBOX0_MANAGED_AGENTS_URL: srv.baseURL,
                SANDBOX0_API_KEY: srv.apiKey,
                ANTHROPIC_BASE_URL: vaultModel.url,
                ANTHROPIC_API_KEY: recordSecret(`sk-s0-model-${Date.now().toString(36)}-abcdef0123`),
            },
        };
        const client = new Anthropic({
            baseURL: process.env.SANDBOX0_MANAGED_AGENTS_URL ?? 'https://agents.sandbox0.ai',
            apiKey: process.env.SANDBOX0_API_KEY,
        });
        const suffix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
        const environment = await client.beta.environments.create({
            name: `demo-env-${suffix}`,
            config: { type: 'cloud', networking: { type: 'unrestricted' }, packages: { type: 'packages' } },
        });
        const agent = await client.beta.agents.create({
            name: `Demo Agent ${suffix}`,
            model: { id: process.env.ANTHROPIC_MODEL ?? 'claude-sonnet-4-20250514' },
            system: 'Reply in one short sentence.',
            tools: [{ type: 'agent_toolset_20260401' }],
        });
        const llmVault = await client.beta.vaults.create({
            display_name: `Claude LLM ${suffix}`,
            metadata: {
                'sandbox0.managed_agents.role': 'llm',
                'sandbox0.managed_agents.engine': 'claude',
                'sandbox0.managed_agents.llm_base_url': process.env.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com',
            },
        });
        const credential = await client.beta.vaults.credentials.create(llmVault.id, {
            display_name: 'Anthropic-compatible API key',
            auth: { type: 'static_bearer', token: process.env.ANTHROPIC_API_KEY },
        });
        const session = await client.beta.sessions.create({
            agent: agent.id,
            environment_id: environment.id,
            title: `Sandbox0 demo ${suffix}`,
            metadata: { 'sandbox0.managed_agents.hard_ttl_seconds': '3600' },
            vault_ids: [llmVault.id],
        });
        vaultModel.reset();
        vaultModel.enqueue({ text: 'Hello from Sandbox0 managed agents.', delay_ms: 200 });
        await client.beta.sessions.events.send(session.id, {
            events: [{ type: 'user.message', content: [{ type: 'text', text: 'Say hello from Sandbox0 managed agents.' }] }],
        });
        const seen = await untilIdle(client, session.id);
        // ---- end of the docs' code ----

        assert.deepEqual(credential.auth, { type: 'static_bearer', mcp_server_url: null }, 'an unbound model key');
        assert.equal(seen.at(-1).type, 'session.status_idle');
        assert.deepEqual(seen.at(-1).stop_reason, { type: 'end_turn' });
        const reply = seen.filter((e) => e.type === 'agent.message').at(-1);
        assert.equal(reply.content[0].text, 'Hello from Sandbox0 managed agents.');
        assert.equal(vaultModel.requests.length, 1, 'the vault\'s llm_base_url got the turn');
        const req = vaultModel.requests[0];
        assert.equal(req.path, '/v1/messages', 'engine claude → the Anthropic Messages format');
        assert.equal(req.headers['x-api-key'], process.env.ANTHROPIC_API_KEY, 'the key from the vault, not the server default');
        assert.equal(req.body.model, 'claude-sonnet-4-20250514');
        assert.equal(req.body.system, 'Reply in one short sentence.');
        assert.ok(!srv.log().includes(process.env.ANTHROPIC_API_KEY), 'the model key is never logged');
        const stored = await client.beta.sessions.retrieve(session.id);
        assert.equal(stored.metadata['sandbox0.managed_agents.hard_ttl_seconds'], '3600');
    });

    test('engine codex selects the OpenAI-compatible format at the vault URL', async () => {
        const client = srv.client;
        const token = recordSecret(`sk-s0-codex-${Date.now().toString(36)}-abcdef0123`);
        const environment = await client.beta.environments.create({ name: `codex-${Date.now().toString(36)}` });
        const agent = await client.beta.agents.create({ name: 'codex agent', model: { id: 'gpt-5-codex' } });
        const llmVault = await client.beta.vaults.create({
            display_name: 'Codex LLM',
            metadata: {
                'sandbox0.managed_agents.role': 'llm',
                'sandbox0.managed_agents.engine': 'codex',
                'sandbox0.managed_agents.llm_base_url': `${vaultModel.url}/v1`,
            },
        });
        await client.beta.vaults.credentials.create(llmVault.id, { display_name: 'OpenAI key', auth: { type: 'static_bearer', token } });
        const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id, vault_ids: [llmVault.id] });
        vaultModel.reset();
        vaultModel.enqueue({ text: 'codex here', delay_ms: 200 });
        await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.message', content: [{ type: 'text', text: 'hi' }] }] });
        const seen = await untilIdle(client, session.id);
        assert.equal(seen.filter((e) => e.type === 'agent.message').at(-1).content[0].text, 'codex here');
        const req = vaultModel.requests[0];
        assert.equal(req.path, '/v1/chat/completions', 'engine codex → the OpenAI-compatible format');
        assert.equal(req.headers.authorization, `Bearer ${token}`);
    });

    test('an unbound static_bearer outside an LLM vault is still refused, naming the field', async () => {
        const vault = await srv.client.beta.vaults.create({ display_name: 'plain' });
        await assert.rejects(
            srv.client.beta.vaults.credentials.create(vault.id, { auth: { type: 'static_bearer', token: recordSecret(`tok-${Date.now()}-plain-0123456789`) } }),
            (e) => e.status === 400 && /`auth\.mcp_server_url`/.test(e.message),
        );
        assert.deepEqual(await collect(srv.client.beta.vaults.credentials.list(vault.id)), []);
    });
});

describe('SandBase seed', () => {
    test('the Agents overview flow: mcp_servers alone, config.resources, a string user.message', async () => {
        // ---- the docs' code (Python SDK there; the same calls in the TypeScript SDK) ----
        const client = new Anthropic({ apiKey: srv.apiKey, baseURL: srv.baseURL });
        const agent = await client.beta.agents.create({
            model: 'claude-sonnet-4',
            name: 'Research Assistant',
            system: 'You are a research assistant. Search the web to answer questions.',
            tools: [{ type: 'agent_toolset_20260401' }],
            mcp_servers: [{ name: 'web-search', type: 'url', url: 'https://mcp.sandbase.invalid/web-search/sse' }],
        });
        const environment = await client.beta.environments.create({
            name: `research-env-${Date.now().toString(36)}`,
            config: { type: 'cloud', networking: { type: 'unrestricted' }, resources: { cpu: 1, memory_mb: 1024, timeout: 600 } },
        });
        const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id, title: 'Research task' });
        gateway.reset();
        gateway.enqueue({ text: 'Here is the summary report.', delay_ms: 200 });
        const sent = await client.beta.sessions.events.send(session.id, {
            events: [{ type: 'user.message', content: 'Analyze the sales data and create a summary report.' }],
        });
        const seen = await untilIdle(client, session.id);
        // ---- end of the docs' code ----

        // mcp_servers alone: an implicit mcp_toolset with the API's defaults, shown as it acts.
        assert.deepEqual(agent.tools.at(-1), {
            type: 'mcp_toolset',
            mcp_server_name: 'web-search',
            default_config: { enabled: true, permission_policy: { type: 'always_ask' } },
            configs: [],
        });
        assert.deepEqual((await client.beta.agents.retrieve(agent.id)).tools, agent.tools);
        // config.resources: stored and echoed.
        assert.deepEqual(environment.config.resources, { cpu: 1, memory_mb: 1024, timeout: 600 });
        assert.deepEqual((await client.beta.environments.retrieve(environment.id)).config.resources, { cpu: 1, memory_mb: 1024, timeout: 600 });
        // A string content is one text block, echoed and stored normalized.
        const block = [{ type: 'text', text: 'Analyze the sales data and create a summary report.' }];
        assert.deepEqual(sent.data[0].content, block);
        const listed = (await collect(client.beta.sessions.events.list(session.id))).find((e) => e.id === sent.data[0].id);
        assert.deepEqual(listed.content, block);

        assert.equal(seen.filter((e) => e.type === 'agent.message').at(-1).content[0].text, 'Here is the summary report.');
        assert.equal(gateway.requests.length, 1);
        const req = gateway.requests[0];
        assert.equal(req.path, '/v1/messages');
        assert.equal(req.headers['x-api-key'], GATEWAY_KEY, 'the server\'s own model key');
        assert.equal(req.body.model, 'claude-sonnet-4');
        const last = req.body.messages.at(-1);
        const text = typeof last.content === 'string' ? last.content : last.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
        assert.equal(text, 'Analyze the sales data and create a summary report.');
        // MCP toolsets, implicit or explicit, are not offered to the model yet (no MCP client).
        assert.ok(!(req.body.tools ?? []).some((t) => /web-search|mcp/.test(t.name)), 'no MCP tool is offered');
    });

    test('malformed lenient shapes still get a 400 naming the field', async () => {
        const env = await srv.client.beta.environments.create({ name: `sb-bad-${Date.now().toString(36)}` });
        const agent = await srv.client.beta.agents.create({ name: 'sb bad', model: 'claude-sonnet-4' });
        const session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        const before = await collect(srv.client.beta.sessions.events.list(session.id));
        await assert.rejects(
            srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.message', content: '' }] }),
            (e) => e.status === 400 && /`events\[0\]\.content`/.test(e.message),
        );
        await assert.rejects(
            srv.client.beta.environments.create({ name: `sb-big-${Date.now().toString(36)}`, config: { type: 'cloud', resources: { cpu: 100000 } } }),
            (e) => e.status === 400 && /`config\.resources\.cpu`/.test(e.message),
        );
        await assert.rejects(
            srv.client.beta.agents.create({ name: 'sb mcp', model: 'claude-sonnet-4', mcp_servers: [{ name: 'x', type: 'url', url: 'ftp://x.invalid' }] }),
            (e) => e.status === 400 && /`mcp_servers\[0\]\.url`/.test(e.message),
        );
        assert.deepEqual(await collect(srv.client.beta.sessions.events.list(session.id)), before, 'the refused message wrote nothing');
    });
});
