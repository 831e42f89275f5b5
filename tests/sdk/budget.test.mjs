// Budgets and usage through the official SDK (issue 15): every model response is priced from
// the price table (backend/services/PriceTable.cpp) into the session's list cost; a session
// whose cost reaches its budget stops before the next model request with budget_reached
// (session.usage right before the idle) and sends nothing more until the budget is raised.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { collect, idles, recordSecret, sleep, startServer, uniq, userMessage, useScriptedServer, waitEvents } from './helpers.mjs';

const KEY = recordSecret(`sk-ant-budget-${uniq()}${uniq()}`);
const OKEY = recordSecret(`sk-oai-budget-${uniq()}${uniq()}`);
// A configured price for a local model (USD per million tokens); other local models have none.
const LOCAL_PRICES = JSON.stringify({ 'local-priced': { input: 1, output: 2, cache_read: 0.5 } });

const srv = useScriptedServer({
    environment: 'bg',
    env: (provider) => ({
        ANTHROPIC_BASE_URL: provider.url,
        ANTHROPIC_API_KEY: KEY,
        OPENAI_BASE_URL: `${provider.url}/v1`,
        OPENAI_API_KEY: OKEY,
        VIVARIUM_MODEL_PRICES: LOCAL_PRICES,
        // The scripted usages here (up to 1.3M tokens for a one-line conversation) exceed
        // the real models' context windows; a window to match keeps context compaction
        // (compaction.test.mjs), which trusts the last response's usage, out of these
        // pricing tests.
        VIVARIUM_MODEL_CONTEXT_WINDOWS: JSON.stringify({ 'claude-sonnet-4-6': 100000000, '*': 100000000 }),
    }),
});

const budget = (cents) => ({ type: 'limit', max_list_cost: { amount: String(cents), currency: 'USD' } });

async function newSession(model, sessionParams = {}, agentParams = {}) {
    const agent = await srv.client.beta.agents.create({ name: `bg-${uniq()}`, model, ...agentParams });
    return srv.client.beta.sessions.create({ agent: agent.id, environment_id: srv.environment.id, ...sessionParams });
}

// claude-sonnet-4-6 at the table's Sonnet 4 prices: $3 input, $15 output, $0.30 cache read,
// $3.75 cache write per million tokens.
const SONNET = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
const usd = (u, p) => (u.input_tokens * p.input + u.output_tokens * p.output
    + (u.cache_read_input_tokens ?? 0) * p.cacheRead + (u.cache_creation_input_tokens ?? 0) * p.cacheWrite) / 1e6;

describe('usage and list cost', () => {
    test('each response is priced from the table, cache reads and writes included', async () => {
        srv.provider.reset();
        const u1 = { input_tokens: 200000, output_tokens: 40000, cache_read_input_tokens: 1000000, cache_creation_input_tokens: 100000 };
        const u2 = { input_tokens: 100000, output_tokens: 10000 };
        srv.provider.enqueue({ text: 'one', usage: u1 }, { text: 'two', usage: u2 });
        const session = await newSession('claude-sonnet-4-6');
        assert.deepEqual(session.usage.list_cost, { amount: '0', currency: 'USD' });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('a')] });
        await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 1, 10_000);
        let s = await srv.client.beta.sessions.retrieve(session.id);
        // 0.6 + 0.6 + 0.3 + 0.375 = $1.875 → 188 cents (rounded to the nearest cent)
        assert.equal(usd(u1, SONNET), 1.875);
        assert.deepEqual(s.usage.list_cost, { amount: '188', currency: 'USD' });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('b')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 2, 10_000);
        s = await srv.client.beta.sessions.retrieve(session.id);
        // + 0.3 + 0.15 = $2.325 → 233 cents
        assert.deepEqual(s.usage.list_cost, { amount: String(Math.round((usd(u1, SONNET) + usd(u2, SONNET)) * 100)), currency: 'USD' });
        assert.equal(s.usage.list_cost.amount, '233');
        assert.equal(s.usage.input_tokens, 300000);
        assert.equal(s.usage.cache_read_input_tokens, 1000000);
        assert.equal(s.usage.cache_creation.ephemeral_5m_input_tokens, 100000);
        assert.equal(events.filter((e) => e.type === 'session.usage').length, 0, 'no session.usage without a budget');
    });

    test('a minor version with its own list price is not priced as its family prefix', async () => {
        // Rows checked against Anthropic's pricing docs (PriceTable.cpp). claude-opus-4-7 once fell
        // through to the "claude-opus-4" row ($15/$75, Opus 4 and 4.1); claude-sonnet-5-5 must not
        // take claude-sonnet-5's cache-read rate. 2M tokens of each kind: cents = 200 × (sum of rates).
        const u = { input_tokens: 2000000, output_tokens: 2000000, cache_read_input_tokens: 2000000, cache_creation_input_tokens: 2000000 };
        const expected = {
            'claude-opus-4-7': { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 },
            'claude-sonnet-5': { input: 2, output: 10, cacheRead: 0.2, cacheWrite: 2.5 },
            'claude-sonnet-5-5': { input: 2, output: 10, cacheRead: 0.1, cacheWrite: 2.5 },
            'claude-haiku-5-5': { input: 0.1, output: 0.5, cacheRead: 0.01, cacheWrite: 0.125 },
        };
        const cents = {};
        for (const model of Object.keys(expected)) {
            srv.provider.reset();
            srv.provider.enqueue({ text: model, usage: u });
            const session = await newSession(model);
            await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('price me')] });
            await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 1);
            cents[model] = (await srv.client.beta.sessions.retrieve(session.id)).usage.list_cost.amount;
        }
        assert.deepEqual(cents, Object.fromEntries(Object.entries(expected).map(([m, p]) => [m, String(Math.round(usd(u, p) * 100))])));
        assert.deepEqual(cents, { 'claude-opus-4-7': '7350', 'claude-sonnet-5': '2940', 'claude-sonnet-5-5': '2920', 'claude-haiku-5-5': '147' });
    });

    test('a local model costs 0 unless VIVARIUM_MODEL_PRICES prices it; a budget needs a price', async () => {
        srv.provider.reset();
        srv.provider.enqueue({ text: 'priced', usage: { input_tokens: 500000, output_tokens: 250000 } },
            { text: 'free', usage: { input_tokens: 500000, output_tokens: 250000 } });
        const priced = await newSession('openai/local-priced');
        await srv.client.beta.sessions.events.send(priced.id, { events: [userMessage('x')] });
        await waitEvents(srv.client, priced.id, (ev) => idles(ev).length >= 1, 10_000);
        assert.equal(srv.provider.requests[0].path, '/v1/chat/completions');
        // 0.5 × $1 + 0.25 × $2 = $1.00
        assert.deepEqual((await srv.client.beta.sessions.retrieve(priced.id)).usage.list_cost, { amount: '100', currency: 'USD' });

        const free = await newSession('openai/local-unpriced');
        await srv.client.beta.sessions.events.send(free.id, { events: [userMessage('x')] });
        await waitEvents(srv.client, free.id, (ev) => idles(ev).length >= 1, 10_000);
        assert.deepEqual((await srv.client.beta.sessions.retrieve(free.id)).usage.list_cost, { amount: '0', currency: 'USD' });

        const agent = await srv.client.beta.agents.create({ name: `bg-${uniq()}`, model: 'openai/local-unpriced' });
        const before = (await collect(srv.client.beta.sessions.list({ limit: 100 }))).length;
        const err = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: srv.environment.id, budget: budget(100) }).catch((e) => e);
        assert.equal(err.status, 400);
        assert.match(err.message, /model_not_budgetable/);
        assert.equal((await collect(srv.client.beta.sessions.list({ limit: 100 }))).length, before, 'nothing created');
    });
});

describe('VIVARIUM_MODEL_PRICES', () => {
    test('a malformed value is reported in the log and ignored as a whole (built-in prices stay)', async () => {
        const other = await startServer({ env: { VIVARIUM_MODEL_PRICES: '{"local-x": {"input": -1, "output": 1}}' } });
        try {
            const e2 = await other.client.beta.environments.create({ name: `bgm-${uniq()}` });
            const local = await other.client.beta.agents.create({ name: `bgm-${uniq()}`, model: 'openai/local-x' });
            const err = await other.client.beta.sessions.create({ agent: local.id, environment_id: e2.id, budget: budget(100) }).catch((e) => e);
            assert.equal(err.status, 400, 'the rejected entry gave local-x no price');
            assert.match(err.message, /model_not_budgetable/);
            const claude = await other.client.beta.agents.create({ name: `bgm-${uniq()}`, model: 'claude-haiku-4-5' });
            const ok = await other.client.beta.sessions.create({ agent: claude.id, environment_id: e2.id, budget: budget(100) });
            assert.deepEqual(ok.budget, budget(100));
            assert.match(other.log(), /VIVARIUM_MODEL_PRICES ignored: "local-x": prices must be non-negative/);
        } finally {
            await other.stop();
        }
    });
});

describe('budget', () => {
    test('a 1-cent budget spent by one large-usage reply: budget_reached, no further model request', async () => {
        srv.provider.reset();
        // A tool call: the turn would go on (the tool's result back to the model) — the gate stops it.
        const big = { input_tokens: 2000, output_tokens: 1000, cache_read_input_tokens: 10000, cache_creation_input_tokens: 1000 };
        srv.provider.enqueue({ tool_calls: [{ name: 'bash', input: { command: 'ls' } }], usage: big });
        const session = await newSession('claude-sonnet-4-6', { budget: budget(1) }, {
            tools: [{ type: 'agent_toolset_20260401', default_config: { enabled: false }, configs: [{ name: 'bash', enabled: true }] }],
        });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('spend it')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 1, 10_000);
        const types = events.map((e) => e.type);
        assert.deepEqual(types.slice(-3), ['agent.tool_result', 'session.usage', 'session.status_idle'],
            'the tool ran, then the gate stopped the next request: session.usage right before the idle');
        assert.deepEqual(idles(events)[0].stop_reason, { type: 'budget_reached' });
        const usage = events.find((e) => e.type === 'session.usage');
        // 2000×3 + 1000×15 + 10000×0.3 + 1000×3.75 = 27750 µ$ = 2.775 cents → "3"
        assert.equal(usd(big, SONNET), 0.02775);
        assert.deepEqual(usage.usage.list_cost, { amount: '3', currency: 'USD' });
        assert.equal(usage.usage.input_tokens, 2000);
        assert.equal(usage.usage.output_tokens, 1000);
        assert.equal(usage.usage.cache_read_input_tokens, 10000);
        assert.deepEqual(usage.budget, budget(1));
        await sleep(300);
        assert.equal(srv.provider.requests.length, 1, 'no model request after the budget was spent');
        let s = await srv.client.beta.sessions.retrieve(session.id);
        assert.equal(s.status, 'idle');
        assert.deepEqual(s.usage.list_cost, { amount: '3', currency: 'USD' });

        // At the cap only settle events are accepted; new work is a 400 and writes nothing.
        const n = events.length;
        const err = await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('more')] }).catch((e) => e);
        assert.equal(err.status, 400);
        assert.match(err.message, /budget_reached/);
        assert.match(err.message, /user\.tool_confirmation/);
        assert.equal((await collect(srv.client.beta.sessions.events.list(session.id))).length, n);
        // A budget at or below the consumed cost (2.775 cents) is refused.
        const low = await srv.client.beta.sessions.update(session.id, { budget: budget(2) }).catch((e) => e);
        assert.equal(low.status, 400);
        assert.match(low.message, /budget_not_raised/);
        assert.equal(srv.provider.requests.length, 1);

        // Raising the budget resumes the paused work: the tool result goes to the model.
        srv.provider.enqueue({ text: 'finished', usage: { input_tokens: 10, output_tokens: 5 } });
        s = await srv.client.beta.sessions.update(session.id, { budget: budget(500) });
        assert.deepEqual(s.budget, budget(500));
        const resumed = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 2, 10_000);
        assert.equal(srv.provider.requests.length, 2);
        assert.ok(srv.provider.requests[1].body.messages.at(-1).content.some((b) => b.type === 'tool_result'));
        assert.deepEqual(idles(resumed).at(-1).stop_reason, { type: 'end_turn' });
        const snapshots = resumed.filter((e) => e.type === 'session.usage');
        assert.equal(snapshots.length, 2, 'a budgeted session reports its running cost before each idle');
        assert.deepEqual(snapshots.at(-1).budget, budget(500));
    });

    test('the largest budget the API accepts (15 digits of cents) is not reached by a priced turn', async () => {
        srv.provider.reset();
        srv.provider.enqueue({ text: 'fine', usage: { input_tokens: 1000000, output_tokens: 1000000 } });
        const session = await newSession('claude-sonnet-4-6', { budget: budget('999999999999999') });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('go')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 1, 10_000);
        assert.deepEqual(idles(events)[0].stop_reason, { type: 'end_turn' });
        assert.deepEqual(events.at(-2).usage.list_cost, { amount: '1800', currency: 'USD' });
    });

    test('a turn whose final request crosses the cap ends budget_reached', async () => {
        srv.provider.reset();
        srv.provider.enqueue({ text: 'expensive answer', usage: { input_tokens: 1000000, output_tokens: 0 } });
        const session = await newSession('claude-sonnet-4-6', { budget: budget(100) });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('one big answer')] });
        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 1, 10_000);
        assert.deepEqual(events.map((e) => e.type).slice(-4), ['agent.message', 'span.model_request_end', 'session.usage', 'session.status_idle']);
        assert.deepEqual(idles(events)[0].stop_reason, { type: 'budget_reached' });
        assert.deepEqual(events.at(-2).usage.list_cost, { amount: '300', currency: 'USD' });
        // An interrupt at the cap changes nothing; nothing more is sent to the model.
        await srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
        await sleep(200);
        assert.equal(idles(await collect(srv.client.beta.sessions.events.list(session.id))).length, 1);
        assert.equal(srv.provider.requests.length, 1);
    });
});
