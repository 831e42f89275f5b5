// The prologue and the waits that the SDK tests with real session VMs (tests/sdk/sandbox/*.test.mjs)
// share, on top of ../helpers.mjs: vivariumd behind the scripted model provider, an agent with the
// built-in toolset, sessions, the event log polled until a turn ends, the raw sandbox API, the
// libvirt domain names of a data directory.
//
// The sandbox environment comes from ctest (tests/sdk/CMakeLists.txt, VIVARIUM_SANDBOX_TEST_ENV of
// tests/sandbox/CMakeLists.txt): VIVARIUM_IMAGE_DIR (the build's guest image cache),
// VIVARIUM_GUEST_RECIPE_DIR, VIVARIUM_WARM_POOL=1 and VIVARIUM_SANDBOX_ACCEL=tcg (sdk_sandbox_readme
// runs without the ACCEL entry: the default `auto`). vivariumd inherits it unchanged; a test file
// only adds what it sets in useSandboxServer({env}) (PREWARM, ONE_VM, idle pause), which wins.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';

import { collect, idleCount, recordSecret, uniq, userMessage, useScriptedServer, waitEvents, waitFor } from '../helpers.mjs';

// VIVARIUM_SANDBOX_TOOLS=0 (the non-VM SDK suites' setting) would run every tool in the
// no-sandbox executor: fail here, by name, instead of in each assertion.
if (process.env.VIVARIUM_SANDBOX_TOOLS === '0')
    throw new Error('VIVARIUM_SANDBOX_TOOLS=0 is set: the sandbox SDK tests need the VM executor (run them through ctest)');

/** A warm VM is booted at start (VIVARIUM_SANDBOX_PREWARM=1): the first session claims it. */
export const PREWARM = { VIVARIUM_SANDBOX_PREWARM: '1' };
/** No warm pool and no prewarm: the session boots its own and only VM. */
export const ONE_VM = { VIVARIUM_SANDBOX_PREWARM: '0', VIVARIUM_WARM_POOL: '0' };

/** The built-in toolset, every tool allowed without asking. */
export const TOOLSET = { type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_allow' } } };

/** How often the VM tests poll: their turns take seconds to minutes under TCG. */
const POLL_MS = 200;

/**
 * useScriptedServer() for a VM test: vivariumd talks to the scripted provider with a fresh key
 * (recorded for secret_scan) and gets `env` on top (an object, or `env(provider)` returning one
 * or a promise of one: a file's own loopback servers start there). The server's whole extra
 * environment is ctx.serverEnv (for a restart that changes part of it). `environment`: the
 * environment's name prefix, or null for none; `setup(ctx)` as for useScriptedServer().
 */
export function useSandboxServer({ environment = 'vm', env = {}, setup } = {}) {
    const anthropicKey = recordSecret(`sk-ant-scripted-${uniq()}${uniq()}`);
    const ctx = useScriptedServer({
        environment,
        setup,
        env: async (provider) => {
            const extra = typeof env === 'function' ? await env(provider) : env;
            ctx.serverEnv = { ANTHROPIC_BASE_URL: provider.url, ANTHROPIC_API_KEY: anthropicKey, ...extra };
            return ctx.serverEnv;
        },
    });
    return ctx;
}

/** An agent named `<name>-<uniq>` with TOOLSET; `params` adds or replaces fields (tools, skills, mcp_servers). */
export function newAgent(srv, name, params = {}) {
    return srv.client.beta.agents.create({ name: `${name}-${uniq()}`, model: 'claude-sonnet-4-6', tools: [TOOLSET], ...params });
}

/**
 * A session of a new agent (newAgent(srv, name, agent)) in srv.environment (or `environment_id`);
 * the other `params` go to sessions.create (resources, metadata, vault_ids).
 */
export async function newSession(srv, name, { agent, environment_id = srv.environment?.id, ...params } = {}) {
    const created = await newAgent(srv, name, agent);
    return srv.client.beta.sessions.create({ agent: created.id, environment_id, ...params });
}

/** waitEvents() on the server behind srv (srv.client at the time of the call), polling every 200 ms. */
export function waitSessionEvents(srv, sessionId, pred, timeoutMs) {
    return waitEvents(srv.client, sessionId, pred, timeoutMs, { intervalMs: POLL_MS });
}

/** Waits until the session's log holds `count` session.status_idle events; returns the log. */
export function waitIdles(srv, sessionId, count, timeoutMs) {
    return waitSessionEvents(srv, sessionId, (ev) => idleCount(ev) >= count, timeoutMs);
}

/**
 * One turn whose model runs `command` with bash and then answers "Done.": the replies are
 * queued, `message` is sent, and the log is returned once it holds `idles` idles (300 s at most).
 */
export async function bashTurn(srv, sessionId, command, idles, message) {
    srv.provider.enqueue({ tool_calls: [{ name: 'bash', input: { command } }] }, { text: 'Done.' });
    await srv.client.beta.sessions.events.send(sessionId, { events: [userMessage(message)] });
    return waitIdles(srv, sessionId, idles, 300_000);
}

/** Polls `list()` (an SDK auto-paginating list) until it has items; returns them. */
export function waitForItems(what, list, timeoutMs) {
    return waitFor(
        what,
        async () => {
            const items = await collect(list());
            return items.length ? items : null;
        },
        timeoutMs,
    );
}

/** The text of a tool result's content blocks. */
export const textOf = (result) => result.content.map((b) => b.text ?? '').join('');

/** textOf(result), asserting the result is no error (is_error is optional on the wire: absent = false). */
export function okText(result) {
    assert.notEqual(result.is_error, true, textOf(result));
    return textOf(result);
}

/** The system prompt of a request the scripted provider received (a string or text blocks). */
export function systemPrompt(request) {
    const system = request.body.system;
    return typeof system === 'string' ? system : system.map((b) => b.text).join('\n');
}

/**
 * A raw sandbox API call (/v1/sandboxes…, no SDK for it): `body` is JSON or a FormData.
 * Returns {status, json (undefined when the body is no JSON), buf, text, headers}.
 */
export async function sandboxApi(srv, method, p, body, headers = {}) {
    const init = { method, headers: { 'x-api-key': srv.apiKey, ...headers } };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${srv.baseURL}${p}`, init);
    const buf = Buffer.from(await res.arrayBuffer());
    let json;
    try {
        json = JSON.parse(buf.toString('utf8'));
    } catch {
        json = undefined;
    }
    return { status: res.status, json, buf, text: buf.toString('utf8'), headers: res.headers };
}

/** GET /v1/sandboxes: the server's sandboxes (asserts the 200). */
export async function listSandboxes(srv) {
    const r = await sandboxApi(srv, 'GET', '/v1/sandboxes');
    assert.equal(r.status, 200, r.text);
    return r.json.data;
}

/**
 * The prefix of the libvirt domain names of srv's VMs: SandboxManager names them
 * vivarium-<tag>-<sandbox id>, tag = sha256(data dir)[:8] (SandboxConfig::instanceTag).
 */
export const domainPrefix = (srv) => `vivarium-${createHash('sha256').update(path.resolve(srv.dataDir)).digest('hex').slice(0, 8)}-`;
