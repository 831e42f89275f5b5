// MCP servers through the official SDK: a real MCP server from npm
// (@modelcontextprotocol/server-everything, tests/mcp, Streamable HTTP on 127.0.0.1) behind a
// loopback proxy that admits one bearer token, the scripted model provider, and vivariumd.
// Proves: the server's tools are offered to the model under model-safe names, `echo` runs and its
// result reaches the model's next request, always_ask is the MCP default (allow / deny through
// user.tool_confirmation), the token comes from the session's vault and only reaches the server's
// Authorization header, content blocks (images) map to tool-result blocks, interrupt cancels a
// running MCP call, a server that dies mid-call gives an error result, a result over the size
// limit is truncated with a note when there is no sandbox to save it in (the sandbox case:
// sandbox/mcp.test.mjs), and an unreachable server or a refused credential gives a session.error
// while the session goes on (and is retried on the next running transition).

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { freePort, startEverything } from './mcp-servers.mjs';
import { idleCount, lastIdle, recordSecret, restartServer, sleep, types, uniq, userMessage, useScriptedServer, waitEvents } from './helpers.mjs';

const MCP_TOKEN = recordSecret(`mcp-bearer-${uniq()}${uniq()}${uniq()}`);
const WRONG_TOKEN = recordSecret(`mcp-wrong-${uniq()}${uniq()}${uniq()}`);

/**
 * A loopback proxy in front of `upstreamPort` that admits only `Bearer <token>` (401 otherwise)
 * and records every request it saw: {method, headers, body}. Streams both ways (SSE answers).
 */
async function startAuthProxy(upstreamPort, token, port = 0) {
    const seen = [];
    const server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const body = Buffer.concat(chunks).toString();
            seen.push({ method: req.method, headers: req.headers, body });
            if (req.headers.authorization !== `Bearer ${token}`) {
                res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
                res.end(JSON.stringify({ error: 'invalid_token' }));
                return;
            }
            const up = http.request(
                { host: '127.0.0.1', port: upstreamPort, path: req.url, method: req.method, headers: req.headers },
                (upRes) => {
                    res.writeHead(upRes.statusCode, upRes.headers);
                    upRes.pipe(res);
                    // The upstream died mid-answer: so does this answer.
                    upRes.on('close', () => {
                        if (!upRes.complete) res.destroy();
                    });
                },
            );
            up.on('error', () => res.destroy());
            res.on('close', () => up.destroy());
            up.end(body);
        });
    });
    await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
    return {
        url: `http://127.0.0.1:${server.address().port}/mcp`,
        port: server.address().port,
        seen,
        close: () =>
            new Promise((resolve) => {
                server.closeAllConnections?.();
                server.close(resolve);
            }),
    };
}

let everything;
let proxy;
const srv = useScriptedServer({
    environment: 'mcp',
    env: async (provider) => {
        everything = await startEverything();
        proxy = await startAuthProxy(everything.port, MCP_TOKEN);
        return {
            ANTHROPIC_BASE_URL: provider.url,
            ANTHROPIC_API_KEY: recordSecret(`sk-ant-mcp-${uniq()}${uniq()}`),
            VIVARIUM_MODEL_RETRY_BASE_MS: '50',
            VIVARIUM_MCP_TIMEOUT_MS: '5000',
        };
    },
});
after(async () => {
    await proxy?.close();
    await everything?.kill();
});

/** A vault with one static_bearer credential for `url`; returns the vault id. */
async function vaultFor(url, token = MCP_TOKEN) {
    const vault = await srv.client.beta.vaults.create({ display_name: `mcp-${uniq()}` });
    await srv.client.beta.vaults.credentials.create(vault.id, {
        display_name: 'everything',
        auth: { type: 'static_bearer', token, mcp_server_url: url },
    });
    return vault.id;
}

async function mcpSession({ url = proxy.url, toolset = {}, token = MCP_TOKEN, vault = true, environment = srv.environment } = {}) {
    const agent = await srv.client.beta.agents.create({
        name: `mcp-${uniq()}`,
        model: 'claude-sonnet-4-6',
        mcp_servers: [{ type: 'url', name: 'everything', url }],
        tools: [{ type: 'mcp_toolset', mcp_server_name: 'everything', ...toolset }],
    });
    const session = await srv.client.beta.sessions.create({
        agent: agent.id,
        environment_id: environment.id,
        ...(vault ? { vault_ids: [await vaultFor(url, token)] } : {}),
    });
    return session;
}

const toolResultOf = (request, id) =>
    request.body.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).find((b) => b.type === 'tool_result' && b.tool_use_id === id);

describe('MCP tools through a real MCP server (Streamable HTTP)', () => {
    test('tools offered; echo asks first (always_ask default); allowed, its result reaches the model; bearer from the vault', async () => {
        srv.provider.reset();
        proxy.seen.length = 0;
        srv.provider.enqueue({ text: 'Calling echo.', tool_calls: [{ name: 'mcp__everything__echo', input: { message: 'hello mcp' } }] }, { text: 'Echoed.' });
        const session = await mcpSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('echo something')] });
        let events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);

        const offered = srv.provider.requests[0].body.tools;
        const echo = offered.find((t) => t.name === 'mcp__everything__echo');
        assert.ok(echo, `echo offered: ${offered.map((t) => t.name)}`);
        assert.deepEqual(echo.input_schema, {
            type: 'object',
            properties: { message: { type: 'string', description: 'Message to echo' } },
            required: ['message'],
        }, 'the server\'s schema, without its $schema marker');
        assert.ok(offered.length > 5, 'every enabled tool of the server is offered');
        for (const t of offered) assert.match(t.name, /^[a-zA-Z0-9_-]{1,64}$/);

        const use = events.find((e) => e.type === 'agent.mcp_tool_use');
        assert.ok(use, types(events));
        assert.equal(use.name, 'echo');
        assert.equal(use.mcp_server_name, 'everything');
        assert.deepEqual(use.input, { message: 'hello mcp' });
        assert.equal(use.evaluated_permission, 'ask');
        assert.deepEqual(use.evaluation, { type: 'always_ask' });
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'requires_action', event_ids: [use.id] });

        await srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.tool_confirmation', tool_use_id: use.id, result: 'allow' }] });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
        const result = events.find((e) => e.type === 'agent.mcp_tool_result');
        assert.ok(result, types(events));
        assert.equal(result.mcp_tool_use_id, use.id);
        assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: hello mcp' }]);
        assert.ok(!result.is_error);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });

        // The model's next request: the call under its model name, the result as a tool_result.
        const second = srv.provider.requests[1].body;
        const assistantUse = second.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).find((b) => b.type === 'tool_use');
        assert.equal(assistantUse.name, 'mcp__everything__echo');
        assert.deepEqual(toolResultOf(srv.provider.requests[1], assistantUse.id).content, [{ type: 'text', text: 'Echo: hello mcp' }]);

        // The MCP server saw the vault's bearer on every request, the negotiated version after
        // initialize, the session id it assigned, and a tools/call for echo.
        assert.ok(proxy.seen.length >= 4, `requests seen: ${proxy.seen.length}`);
        for (const r of proxy.seen) assert.equal(r.headers.authorization, `Bearer ${MCP_TOKEN}`);
        const bodies = proxy.seen.map((r) => (r.body ? JSON.parse(r.body) : {}));
        assert.equal(bodies[0].method, 'initialize');
        assert.ok(bodies.some((b) => b.method === 'notifications/initialized'));
        assert.ok(bodies.some((b) => b.method === 'tools/list'));
        const callIndex = bodies.findIndex((b) => b.method === 'tools/call');
        assert.deepEqual(bodies[callIndex].params, { name: 'echo', arguments: { message: 'hello mcp' } });
        assert.equal(proxy.seen[callIndex].headers['mcp-protocol-version'], '2025-06-18');
        assert.ok(proxy.seen[callIndex].headers['mcp-session-id'], 'Mcp-Session-Id sent back');
        assert.match(proxy.seen[0].headers.accept, /application\/json/);
        assert.match(proxy.seen[0].headers.accept, /text\/event-stream/);

        // The token never reaches the events or the server log.
        assert.ok(!JSON.stringify(events).includes(MCP_TOKEN));
        assert.ok(!srv.log().includes(MCP_TOKEN));
    });

    test('deny: the call never reaches the server and the model gets an error result with the message', async () => {
        srv.provider.reset();
        proxy.seen.length = 0;
        srv.provider.enqueue({ tool_calls: [{ name: 'mcp__everything__echo', input: { message: 'nope' } }] }, { text: 'OK, not echoing.' });
        const session = await mcpSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('echo')] });
        let events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const use = events.find((e) => e.type === 'agent.mcp_tool_use');
        await srv.client.beta.sessions.events.send(session.id, {
            events: [{ type: 'user.tool_confirmation', tool_use_id: use.id, result: 'deny', deny_message: 'not today' }],
        });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
        const result = events.find((e) => e.type === 'agent.mcp_tool_result');
        assert.equal(result.mcp_tool_use_id, use.id);
        assert.equal(result.is_error, true);
        assert.match(result.content[0].text, /denied.*not today/);
        const tr = toolResultOf(srv.provider.requests[1], srv.provider.requests[1].body.messages.flatMap((m) => m.content).find((b) => b.type === 'tool_use').id);
        assert.equal(tr.is_error, true);
        assert.ok(!proxy.seen.some((r) => r.body.includes('tools/call')), 'a denied call is never sent');
    });

    test('per-tool configs: an allowlist with always_allow runs at once; image content maps to an image block', async () => {
        srv.provider.reset();
        srv.provider.enqueue({ tool_calls: [{ name: 'mcp__everything__get-tiny-image', input: {} }] }, { text: 'Nice image.' });
        const session = await mcpSession({
            toolset: {
                default_config: { enabled: false },
                configs: [
                    { name: 'get-tiny-image', enabled: true, permission_policy: { type: 'always_allow' } },
                    { name: 'echo', enabled: true },
                ],
            },
        });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('show an image')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1 && lastIdle(ev).stop_reason.type === 'end_turn');
        assert.deepEqual(srv.provider.requests[0].body.tools.map((t) => t.name).sort(), ['mcp__everything__echo', 'mcp__everything__get-tiny-image']);
        const use = events.find((e) => e.type === 'agent.mcp_tool_use');
        assert.equal(use.evaluated_permission, 'allow');
        assert.equal(use.name, 'get-tiny-image');
        const result = events.find((e) => e.type === 'agent.mcp_tool_result');
        const image = result.content.find((b) => b.type === 'image');
        assert.ok(image, JSON.stringify(result.content).slice(0, 300));
        assert.equal(image.source.type, 'base64');
        assert.equal(image.source.media_type, 'image/png');
        assert.ok(image.source.data.length > 20);
        const tr = toolResultOf(srv.provider.requests[1], srv.provider.requests[1].body.messages.flatMap((m) => m.content).find((b) => b.type === 'tool_use').id);
        assert.ok(tr.content.some((b) => b.type === 'image'), 'the model gets the image');
    });

    test('interrupt during a long-running MCP tool: error result, notifications/cancelled sent to the server', async () => {
        srv.provider.reset();
        proxy.seen.length = 0;
        srv.provider.enqueue({ tool_calls: [{ name: 'mcp__everything__trigger-long-running-operation', input: { duration: 30, steps: 30 } }] });
        const session = await mcpSession({ toolset: { default_config: { permission_policy: { type: 'always_allow' } } } });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('run long')] });
        await waitEvents(srv.client, session.id, (ev) => ev.some((e) => e.type === 'agent.mcp_tool_use'));
        const deadline = Date.now() + 5000;
        while (!proxy.seen.some((r) => r.body.includes('"tools/call"')) && Date.now() < deadline) await sleep(20);
        await srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
        const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const result = events.find((e) => e.type === 'agent.mcp_tool_result');
        assert.ok(result, types(events));
        assert.equal(result.is_error, true);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
        const cancelDeadline = Date.now() + 5000;
        while (!proxy.seen.some((r) => r.body.includes('notifications/cancelled')) && Date.now() < cancelDeadline) await sleep(20);
        const cancelled = proxy.seen.map((r) => (r.body ? JSON.parse(r.body) : {})).find((b) => b.method === 'notifications/cancelled');
        const call = proxy.seen.map((r) => (r.body ? JSON.parse(r.body) : {})).find((b) => b.method === 'tools/call');
        assert.ok(cancelled, 'notifications/cancelled reached the server');
        assert.equal(cancelled.params.requestId, call.id);
    });

    test('a server that is down at session start: session.error, the session goes on; retried on the next running transition', async () => {
        srv.provider.reset();
        const port = await freePort();
        const url = `http://127.0.0.1:${port}/mcp`;
        srv.provider.enqueue({ text: 'Working without MCP.' });
        const session = await mcpSession({ url });
        assert.equal((await srv.client.beta.sessions.retrieve(session.id)).status, 'idle', 'creation is not blocked');
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('hi')] });
        let events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const error = events.find((e) => e.type === 'session.error');
        assert.ok(error, types(events));
        assert.equal(error.error.type, 'mcp_connection_failed_error');
        assert.equal(error.error.mcp_server_name, 'everything');
        assert.match(error.error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
        assert.ok(!(srv.provider.requests[0].body.tools ?? []).some((t) => t.name.startsWith('mcp__')), 'no MCP tools offered');

        // The server comes up on that port; the next running transition connects.
        const late = await startAuthProxy(everything.port, MCP_TOKEN, port);
        try {
            srv.provider.enqueue({ text: 'Now with MCP.' });
            await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('again')] });
            events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
            assert.equal(events.filter((e) => e.type === 'session.error').length, 1, types(events));
            assert.ok(srv.provider.requests[1].body.tools.some((t) => t.name === 'mcp__everything__echo'));
        } finally {
            await late.close();
        }
    });

    test('a `limited` environment reaches an MCP server only with allow_mcp_servers or the host in allowed_hosts', async () => {
        const limited = (networking) =>
            srv.client.beta.environments.create({
                name: `mcp-limited-${uniq()}`,
                config: { type: 'cloud', networking: { type: 'limited', allowed_hosts: [], ...networking } },
            });
        // Not admitted: session.error naming the policy, no MCP tools, nothing reached the server.
        srv.provider.reset();
        proxy.seen.length = 0;
        srv.provider.enqueue({ text: 'No MCP here.' });
        const closed = await limited({ allow_mcp_servers: false, allowed_hosts: ['api.example.com'] });
        const refused = await mcpSession({ environment: closed });
        await srv.client.beta.sessions.events.send(refused.id, { events: [userMessage('hi')] });
        const events = await waitEvents(srv.client, refused.id, (ev) => idleCount(ev) >= 1);
        const error = events.find((e) => e.type === 'session.error');
        assert.ok(error, types(events));
        assert.equal(error.error.type, 'mcp_connection_failed_error');
        assert.equal(error.error.mcp_server_name, 'everything');
        assert.match(error.error.message, /limited.*allow_mcp_servers/);
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
        assert.ok(!(srv.provider.requests[0].body.tools ?? []).some((t) => t.name.startsWith('mcp__')), 'no MCP tools offered');
        assert.equal(proxy.seen.length, 0, 'nothing was sent to the server');

        // allow_mcp_servers, or the server's host listed: connected and offered.
        for (const networking of [{ allow_mcp_servers: true }, { allowed_hosts: [`127.0.0.1:${proxy.port}`] }]) {
            srv.provider.reset();
            srv.provider.enqueue({ text: 'With MCP.' });
            const open = await mcpSession({ environment: await limited(networking) });
            await srv.client.beta.sessions.events.send(open.id, { events: [userMessage('hi')] });
            const ok = await waitEvents(srv.client, open.id, (ev) => idleCount(ev) >= 1);
            assert.ok(!ok.some((e) => e.type === 'session.error'), `${JSON.stringify(networking)}: ${types(ok)}`);
            assert.ok(srv.provider.requests[0].body.tools.some((t) => t.name === 'mcp__everything__echo'), JSON.stringify(networking));
        }
    });

    test('a refused credential: session.error mcp_authentication_failed_error without the token; the session goes on', async () => {
        srv.provider.reset();
        srv.provider.enqueue({ text: 'Fine.' });
        const session = await mcpSession({ token: WRONG_TOKEN });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('hi')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const error = events.find((e) => e.type === 'session.error');
        assert.ok(error, types(events));
        assert.equal(error.error.type, 'mcp_authentication_failed_error');
        assert.equal(error.error.mcp_server_name, 'everything');
        assert.match(error.error.message, /401/);
        assert.ok(!JSON.stringify(events).includes(WRONG_TOKEN));
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
    });

    test('no vault credential for the URL: the proxy answers 401 and the error says no credential matches', async () => {
        srv.provider.reset();
        srv.provider.enqueue({ text: 'Fine.' });
        const session = await mcpSession({ vault: false });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('hi')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const error = events.find((e) => e.type === 'session.error');
        assert.equal(error.error.type, 'mcp_authentication_failed_error');
        assert.match(error.error.message, /no credential/);
    });

    test('a server that dies mid-call: an error result, and the turn goes on', async () => {
        srv.provider.reset();
        const own = await startEverything();
        const ownProxy = await startAuthProxy(own.port, MCP_TOKEN);
        try {
            srv.provider.enqueue(
                { tool_calls: [{ name: 'mcp__everything__trigger-long-running-operation', input: { duration: 30, steps: 30 } }] },
                { text: 'The server went away.' },
            );
            const session = await mcpSession({ url: ownProxy.url, toolset: { default_config: { permission_policy: { type: 'always_allow' } } } });
            await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('run long')] });
            await waitEvents(srv.client, session.id, (ev) => ev.some((e) => e.type === 'agent.mcp_tool_use'));
            const deadline = Date.now() + 5000;
            while (!ownProxy.seen.some((r) => r.body.includes('"tools/call"')) && Date.now() < deadline) await sleep(20);
            await own.kill();
            const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
            const result = events.find((e) => e.type === 'agent.mcp_tool_result');
            assert.equal(result.is_error, true);
            assert.match(result.content[0].text, /MCP server/);
            assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
            assert.equal(srv.provider.requests.length, 2, 'the model got the error result');
        } finally {
            await ownProxy.close();
            await own.kill();
        }
    });

    test('a result over 50,000 characters, with no sandbox to save it in: truncated at the limit with a note; one at the limit is whole', async () => {
        srv.provider.reset();
        const atLimit = 'b'.repeat(50_000 - 'Echo: '.length);
        const big = 'a'.repeat(59_000) + 'TAIL'.repeat(250); // echoed: 60,006 characters
        srv.provider.enqueue(
            {
                tool_calls: [
                    { name: 'mcp__everything__echo', input: { message: atLimit } },
                    { name: 'mcp__everything__echo', input: { message: big } },
                ],
            },
            { text: 'Got both.' },
        );
        const session = await mcpSession({ toolset: { default_config: { permission_policy: { type: 'always_allow' } } } });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('echo two')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const uses = events.filter((e) => e.type === 'agent.mcp_tool_use');
        const results = events.filter((e) => e.type === 'agent.mcp_tool_result');
        assert.equal(results.length, 2, types(events));
        const resultOf = (use) => results.find((r) => r.mcp_tool_use_id === use.id);
        const whole = resultOf(uses.find((u) => u.input.message === atLimit));
        assert.deepEqual(whole.content, [{ type: 'text', text: `Echo: ${atLimit}` }], 'exactly at the limit: unchanged');
        const cut = resultOf(uses.find((u) => u.input.message === big));
        assert.equal(cut.content.length, 1);
        assert.ok(!cut.is_error);
        const text = cut.content[0].text;
        const head = `Echo: ${big}`.slice(0, 50_000);
        assert.ok(text.startsWith(`${head}\n\n[`), text.slice(50_000 - 20, 50_100));
        assert.ok(!text.includes('TAIL'), 'nothing past the limit');
        const note = text.slice(50_002);
        assert.match(note, /60006 characters, over the 50000-character limit/);
        assert.match(note, /truncated after the first 50000 characters/);
        assert.match(note, /no sandbox/);
        // The model's next request carries exactly what the event says it got.
        for (const r of results) assert.deepEqual(toolResultOf(srv.provider.requests[1], r.mcp_tool_use_id).content, r.content);
        assert.equal(lastIdle(events).stop_reason.type, 'end_turn');
    });
});

/** A loopback OAuth token endpoint: answers the refresh_token grant per `respond(params, headers)`. */
async function startTokenEndpoint(respond) {
    const calls = [];
    const server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', async () => {
            const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
            calls.push({ params, headers: req.headers });
            const { status = 200, body, delayMs = 0 } = respond(params, req.headers);
            if (delayMs) await sleep(delayMs);
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(body));
        });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${server.address().port}/token`, calls, close: () => new Promise((r) => server.close(r)) };
}

describe('mcp_oauth credentials: refresh', () => {
    test('a 401 refreshes the token once for concurrent sessions (client_secret_basic); new tokens stored, expires_at updated', async () => {
        const OLD = recordSecret(`mcp-old-access-${uniq()}${uniq()}`);
        const NEW = recordSecret(`mcp-new-access-${uniq()}${uniq()}`);
        const REFRESH = recordSecret(`mcp-refresh-${uniq()}${uniq()}`);
        const ROTATED = recordSecret(`mcp-rotated-refresh-${uniq()}${uniq()}`);
        const SECRET = recordSecret(`mcp-client-secret-${uniq()}${uniq()}`);
        const tokens = await startTokenEndpoint((params, headers) => {
            const basic = `Basic ${Buffer.from(`client-1:${SECRET}`).toString('base64')}`;
            if (params.grant_type !== 'refresh_token' || params.refresh_token !== REFRESH || headers.authorization !== basic)
                return { status: 400, body: { error: 'invalid_grant' } };
            return { body: { access_token: NEW, token_type: 'Bearer', expires_in: 7200, refresh_token: ROTATED }, delayMs: 300 };
        });
        const oauthProxy = await startAuthProxy(everything.port, NEW);
        try {
            srv.provider.reset();
            srv.provider.enqueue({ text: 'one' }, { text: 'two' }, { text: 'three' });
            const vault = await srv.client.beta.vaults.create({ display_name: `oauth-${uniq()}` });
            const originalExpiry = new Date(Date.now() + 3600_000).toISOString();
            const cred = await srv.client.beta.vaults.credentials.create(vault.id, {
                display_name: 'oauth',
                auth: {
                    type: 'mcp_oauth',
                    mcp_server_url: oauthProxy.url,
                    access_token: OLD,
                    expires_at: originalExpiry,
                    refresh: {
                        client_id: 'client-1',
                        refresh_token: REFRESH,
                        token_endpoint: tokens.url,
                        token_endpoint_auth: { type: 'client_secret_basic', client_secret: SECRET },
                    },
                },
            });
            const agent = await srv.client.beta.agents.create({
                name: `oauth-${uniq()}`,
                model: 'claude-sonnet-4-6',
                mcp_servers: [{ type: 'url', name: 'everything', url: oauthProxy.url }],
                tools: [{ type: 'mcp_toolset', mcp_server_name: 'everything' }],
            });
            const sessions = await Promise.all(
                [0, 1].map(() => srv.client.beta.sessions.create({ agent: agent.id, environment_id: srv.environment.id, vault_ids: [vault.id] })),
            );
            await Promise.all(sessions.map((s) => srv.client.beta.sessions.events.send(s.id, { events: [userMessage('hi')] })));
            for (const s of sessions) {
                const events = await waitEvents(srv.client, s.id, (ev) => idleCount(ev) >= 1);
                assert.ok(!events.some((e) => e.type === 'session.error'), types(events));
                assert.ok(!JSON.stringify(events).includes(NEW) && !JSON.stringify(events).includes(OLD));
            }
            assert.equal(tokens.calls.length, 1, 'one refresh for both sessions');
            assert.equal(srv.provider.requests.length, 2);
            for (const r of srv.provider.requests) assert.ok(r.body.tools.some((t) => t.name === 'mcp__everything__echo'));

            const stored = await srv.client.beta.vaults.credentials.retrieve(cred.id, { vault_id: vault.id });
            assert.notEqual(stored.auth.expires_at, originalExpiry);
            const expiry = Date.parse(stored.auth.expires_at);
            assert.ok(expiry > Date.now() + 7000_000 && expiry < Date.now() + 7300_000, stored.auth.expires_at);
            assert.ok(!JSON.stringify(stored).includes(NEW), 'tokens are never returned');

            // A third session uses the stored new token at once: no refresh, no 401.
            oauthProxy.seen.length = 0;
            const third = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: srv.environment.id, vault_ids: [vault.id] });
            await srv.client.beta.sessions.events.send(third.id, { events: [userMessage('hi')] });
            await waitEvents(srv.client, third.id, (ev) => idleCount(ev) >= 1);
            assert.equal(tokens.calls.length, 1);
            assert.ok(oauthProxy.seen.every((r) => r.headers.authorization === `Bearer ${NEW}`));
            assert.ok(!srv.log().includes(NEW) && !srv.log().includes(ROTATED) && !srv.log().includes(SECRET));
        } finally {
            await oauthProxy.close();
            await tokens.close();
        }
    });

    test('a refresh that fails (client_secret_post, invalid_grant): session.error naming the credential; the session goes on', async () => {
        const OLD = recordSecret(`mcp-old-access-${uniq()}${uniq()}`);
        const REFRESH = recordSecret(`mcp-refresh-${uniq()}${uniq()}`);
        const SECRET = recordSecret(`mcp-client-secret-${uniq()}${uniq()}`);
        const tokens = await startTokenEndpoint(() => ({ status: 400, body: { error: 'invalid_grant', error_description: 'expired' } }));
        const oauthProxy = await startAuthProxy(everything.port, recordSecret(`never-${uniq()}${uniq()}`));
        try {
            srv.provider.reset();
            srv.provider.enqueue({ text: 'no mcp' });
            const vault = await srv.client.beta.vaults.create({ display_name: `oauth-${uniq()}` });
            const cred = await srv.client.beta.vaults.credentials.create(vault.id, {
                auth: {
                    type: 'mcp_oauth',
                    mcp_server_url: oauthProxy.url,
                    access_token: OLD,
                    refresh: {
                        client_id: 'client-2',
                        refresh_token: REFRESH,
                        token_endpoint: tokens.url,
                        token_endpoint_auth: { type: 'client_secret_post', client_secret: SECRET },
                    },
                },
            });
            const agent = await srv.client.beta.agents.create({
                name: `oauth-${uniq()}`,
                model: 'claude-sonnet-4-6',
                mcp_servers: [{ type: 'url', name: 'everything', url: oauthProxy.url }],
                tools: [{ type: 'mcp_toolset', mcp_server_name: 'everything' }],
            });
            const session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: srv.environment.id, vault_ids: [vault.id] });
            await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('hi')] });
            const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
            const error = events.find((e) => e.type === 'session.error');
            assert.ok(error, types(events));
            assert.equal(error.error.type, 'mcp_authentication_failed_error');
            assert.match(error.error.message, new RegExp(`${cred.id}.*invalid_grant`));
            assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
            assert.equal(tokens.calls.length, 1);
            assert.deepEqual(tokens.calls[0].params, {
                grant_type: 'refresh_token',
                refresh_token: REFRESH,
                client_id: 'client-2',
                client_secret: SECRET,
            });
            assert.ok(!JSON.stringify(events).includes(SECRET) && !JSON.stringify(events).includes(REFRESH));
        } finally {
            await oauthProxy.close();
            await tokens.close();
        }
    });
});

describe('mcp_oauth_validate: a live probe', () => {
    async function oauthCredential(url, accessToken, refresh) {
        const vault = await srv.client.beta.vaults.create({ display_name: `validate-${uniq()}` });
        const cred = await srv.client.beta.vaults.credentials.create(vault.id, {
            auth: { type: 'mcp_oauth', mcp_server_url: url, access_token: accessToken, ...(refresh ? { refresh } : {}) },
        });
        return { vault, cred };
    }
    const validate = ({ vault, cred }) => srv.client.beta.vaults.credentials.mcpOAuthValidate(cred.id, { vault_id: vault.id });

    test('valid: the server accepts the access token', async () => {
        const c = await oauthCredential(proxy.url, MCP_TOKEN);
        const v = await validate(c);
        assert.equal(v.type, 'vault_credential_validation');
        assert.equal(v.status, 'valid');
        assert.equal(v.credential_id, c.cred.id);
        assert.equal(v.vault_id, c.vault.id);
        assert.equal(v.has_refresh_token, false);
        assert.equal(v.mcp_probe, null);
        assert.equal(v.refresh, null);
        assert.ok(Date.parse(v.validated_at) > Date.now() - 60_000);
    });

    test('invalid: 401 and no refresh token; the probe names the step and the scrubbed response', async () => {
        const WRONG = recordSecret(`mcp-validate-wrong-${uniq()}${uniq()}`);
        const c = await oauthCredential(proxy.url, WRONG);
        const v = await validate(c);
        assert.equal(v.status, 'invalid');
        assert.equal(v.mcp_probe.method, 'initialize');
        assert.equal(v.mcp_probe.http_response.status_code, 401);
        assert.match(v.mcp_probe.http_response.content_type, /application\/json/);
        assert.equal(v.mcp_probe.http_response.body, '{"error":"invalid_token"}');
        assert.equal(v.mcp_probe.http_response.body_truncated, false);
        assert.deepEqual(v.refresh, { status: 'no_refresh_token', http_response: null });
        assert.ok(!JSON.stringify(v).includes(WRONG));
    });

    test('a 401 refreshes once; the new token is probed: valid, refresh succeeded', async () => {
        const OLD = recordSecret(`mcp-validate-old-${uniq()}${uniq()}`);
        const REFRESH = recordSecret(`mcp-validate-refresh-${uniq()}${uniq()}`);
        const tokens = await startTokenEndpoint((params) =>
            params.refresh_token === REFRESH && params.client_id === 'client-v'
                ? { body: { access_token: MCP_TOKEN, token_type: 'Bearer', expires_in: 600 } }
                : { status: 400, body: { error: 'invalid_grant' } },
        );
        try {
            const c = await oauthCredential(proxy.url, OLD, {
                client_id: 'client-v',
                refresh_token: REFRESH,
                token_endpoint: tokens.url,
                token_endpoint_auth: { type: 'none' },
            });
            const v = await validate(c);
            assert.equal(v.status, 'valid', JSON.stringify(v));
            assert.equal(v.has_refresh_token, true);
            assert.deepEqual(v.refresh, { status: 'succeeded', http_response: null });
            assert.equal(v.mcp_probe, null);
            assert.equal(tokens.calls.length, 1);
            const stored = await srv.client.beta.vaults.credentials.retrieve(c.cred.id, { vault_id: c.vault.id });
            assert.ok(stored.auth.expires_at, 'expires_at set by the refresh');
        } finally {
            await tokens.close();
        }
    });

    test('a refresh the token endpoint refuses: invalid, its scrubbed response reported', async () => {
        const OLD = recordSecret(`mcp-validate-old-${uniq()}${uniq()}`);
        const REFRESH = recordSecret(`mcp-validate-refresh-${uniq()}${uniq()}`);
        const tokens = await startTokenEndpoint((params) => ({
            status: 400,
            body: { error: 'invalid_grant', refresh_token: params.refresh_token, echo: `got ${params.refresh_token}` },
        }));
        try {
            const c = await oauthCredential(proxy.url, OLD, {
                client_id: 'client-v',
                refresh_token: REFRESH,
                token_endpoint: tokens.url,
                token_endpoint_auth: { type: 'none' },
            });
            const v = await validate(c);
            assert.equal(v.status, 'invalid');
            assert.equal(v.refresh.status, 'failed');
            assert.equal(v.refresh.http_response.status_code, 400);
            assert.match(v.refresh.http_response.body, /invalid_grant/);
            assert.ok(!JSON.stringify(v).includes(REFRESH), 'the refresh token is scrubbed from the captured body');
            assert.equal(v.mcp_probe.http_response.status_code, 401);
        } finally {
            await tokens.close();
        }
    });

    test('unknown: the server cannot be reached (no HTTP response)', async () => {
        const port = await freePort();
        const c = await oauthCredential(`http://127.0.0.1:${port}/mcp`, recordSecret(`mcp-validate-${uniq()}${uniq()}`));
        const v = await validate(c);
        assert.equal(v.status, 'unknown');
        assert.equal(v.mcp_probe.method, 'initialize');
        assert.equal(v.mcp_probe.http_response, null);
    });

    test('a static_bearer credential is refused with 400; an unknown one 404', async () => {
        const vault = await srv.client.beta.vaults.create({ display_name: `validate-${uniq()}` });
        const cred = await srv.client.beta.vaults.credentials.create(vault.id, {
            auth: { type: 'static_bearer', token: MCP_TOKEN, mcp_server_url: proxy.url },
        });
        await assert.rejects(srv.client.beta.vaults.credentials.mcpOAuthValidate(cred.id, { vault_id: vault.id }), (e) => e.status === 400 && /mcp_oauth/.test(e.message));
        await assert.rejects(srv.client.beta.vaults.credentials.mcpOAuthValidate('vcrd_missing', { vault_id: vault.id }), (e) => e.status === 404);
    });
});

describe('mcp_oauth: an access token about to expire is refreshed before it is used', () => {
    test('expires_at within a minute: refreshed first (token_endpoint_auth none); the server never sees the old token', async () => {
        const OLD = recordSecret(`mcp-soon-old-${uniq()}${uniq()}`);
        const NEW = recordSecret(`mcp-soon-new-${uniq()}${uniq()}`);
        const REFRESH = recordSecret(`mcp-soon-refresh-${uniq()}${uniq()}`);
        const tokens = await startTokenEndpoint((params) =>
            params.refresh_token === REFRESH && params.client_id === 'client-soon'
                ? { body: { access_token: NEW, token_type: 'Bearer', expires_in: 3600 } }
                : { status: 400, body: { error: 'invalid_grant' } },
        );
        const oauthProxy = await startAuthProxy(everything.port, NEW);
        try {
            srv.provider.reset();
            srv.provider.enqueue({ text: 'fresh' });
            const vault = await srv.client.beta.vaults.create({ display_name: `soon-${uniq()}` });
            await srv.client.beta.vaults.credentials.create(vault.id, {
                auth: {
                    type: 'mcp_oauth',
                    mcp_server_url: oauthProxy.url,
                    access_token: OLD,
                    expires_at: new Date(Date.now() + 30_000).toISOString(),
                    refresh: { client_id: 'client-soon', refresh_token: REFRESH, token_endpoint: tokens.url, token_endpoint_auth: { type: 'none' } },
                },
            });
            const agent = await srv.client.beta.agents.create({
                name: `soon-${uniq()}`,
                model: 'claude-sonnet-4-6',
                mcp_servers: [{ type: 'url', name: 'everything', url: oauthProxy.url }],
            });
            const session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: srv.environment.id, vault_ids: [vault.id] });
            await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('hi')] });
            const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
            assert.ok(!events.some((e) => e.type === 'session.error'), types(events));
            assert.equal(tokens.calls.length, 1);
            assert.ok(oauthProxy.seen.length > 0 && oauthProxy.seen.every((r) => r.headers.authorization === `Bearer ${NEW}`));
            assert.ok(srv.provider.requests[0].body.tools.some((t) => t.name === 'mcp__everything__echo'), 'mcp_servers alone: the implicit toolset');
        } finally {
            await oauthProxy.close();
            await tokens.close();
        }
    });
});

describe('MCP across a restart', () => {
    test('a pending MCP confirmation survives a restart; allowed afterwards, the call opens the server and runs', async () => {
        srv.provider.reset();
        srv.provider.enqueue({ tool_calls: [{ name: 'mcp__everything__echo', input: { message: 'after restart' } }] }, { text: 'done' });
        const session = await mcpSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('echo later')] });
        let events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
        const use = events.find((e) => e.type === 'agent.mcp_tool_use');
        assert.deepEqual(lastIdle(events).stop_reason, { type: 'requires_action', event_ids: [use.id] });
        await restartServer(srv);
        await srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.tool_confirmation', tool_use_id: use.id, result: 'allow' }] });
        events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
        const result = events.find((e) => e.type === 'agent.mcp_tool_result');
        assert.ok(result, types(events));
        assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: after restart' }]);
        const second = srv.provider.requests[1].body;
        const replayed = second.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).find((b) => b.type === 'tool_use');
        assert.equal(replayed.name, 'mcp__everything__echo');
        assert.deepEqual(toolResultOf(srv.provider.requests[1], replayed.id).content, [{ type: 'text', text: 'Echo: after restart' }]);
    });
});

describe('the older HTTP+SSE transport (fallback)', () => {
    test('a server that only speaks HTTP+SSE: found after the initialize POST is refused, echo runs, bearer on every request', async () => {
        const legacy = await startEverything('sse');
        const legacyProxy = await startAuthProxy(legacy.port, MCP_TOKEN);
        try {
            srv.provider.reset();
            srv.provider.enqueue({ tool_calls: [{ name: 'mcp__everything__echo', input: { message: 'over sse' } }] }, { text: 'ok' });
            const url = `http://127.0.0.1:${legacyProxy.port}/sse`;
            const session = await mcpSession({ url, toolset: { default_config: { permission_policy: { type: 'always_allow' } } } });
            await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('echo over sse')] });
            const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
            assert.ok(!events.some((e) => e.type === 'session.error'), JSON.stringify(events.find((e) => e.type === 'session.error')));
            const result = events.find((e) => e.type === 'agent.mcp_tool_result');
            assert.deepEqual(result.content, [{ type: 'text', text: 'Echo: over sse' }]);
            assert.deepEqual(lastIdle(events).stop_reason, { type: 'end_turn' });
            const seen = legacyProxy.seen.map((r) => `${r.method} ${r.body ? JSON.parse(r.body).method ?? 'answer' : ''}`.trim());
            assert.equal(seen[0], 'POST initialize', 'Streamable HTTP first');
            assert.equal(seen[1], 'GET', 'then the HTTP+SSE stream');
            assert.ok(seen.includes('POST tools/call'), seen.join(', '));
            for (const r of legacyProxy.seen) assert.equal(r.headers.authorization, `Bearer ${MCP_TOKEN}`);
        } finally {
            await legacyProxy.close();
            await legacy.kill();
        }
    });
});

describe('an MCP server that restarts', () => {
    test('the server forgot the session: a new one is opened and the call runs, without an error', async () => {
        const first = await startEverything();
        const port = first.port;
        const ownProxy = await startAuthProxy(port, MCP_TOKEN);
        let second;
        try {
            srv.provider.reset();
            srv.provider.enqueue(
                { tool_calls: [{ name: 'mcp__everything__echo', input: { message: 'one' } }] },
                { text: 'first done' },
                { tool_calls: [{ name: 'mcp__everything__echo', input: { message: 'two' } }] },
                { text: 'second done' },
            );
            const session = await mcpSession({ url: ownProxy.url, toolset: { default_config: { permission_policy: { type: 'always_allow' } } } });
            await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('first')] });
            await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 1);
            await first.kill();
            second = await startEverything('streamableHttp', port);
            await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('second')] });
            const events = await waitEvents(srv.client, session.id, (ev) => idleCount(ev) >= 2);
            const results = events.filter((e) => e.type === 'agent.mcp_tool_result');
            assert.deepEqual(results.map((r) => r.content), [[{ type: 'text', text: 'Echo: one' }], [{ type: 'text', text: 'Echo: two' }]]);
            assert.ok(!events.some((e) => e.type === 'session.error'), types(events));
            const inits = ownProxy.seen.filter((r) => r.body.includes('"initialize"'));
            assert.equal(inits.length, 2, 'a second initialize for the new server session');
        } finally {
            await ownProxy.close();
            await first.kill();
            await second?.kill();
        }
    });
});
