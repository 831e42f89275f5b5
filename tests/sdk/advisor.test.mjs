// Advisor consultations through the official SDK (issue 15; managed-agents-multiagent.md § Advisor):
// a roster entry {type: 'advisor', model} gives the primary thread an `advisor` tool; calling it
// spawns a thread named `anthropic.advisor` that reads the primary's conversation on the advisor
// model and terminates itself; the advice reaches the primary as agent.thread_message_received
// (no agent.tool_use, no agent.thread_message_sent) and the turn goes on. Interrupting the advisor
// thread lets the turn go on after a generic notice; a session-level interrupt halts everything.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { startScriptedProvider } from '../provider/scripted-provider.mjs';
import { collect, recordSecret, sleep, startServer, uniq, useServer, userMessage, waitEvents } from './helpers.mjs';

const KEY = recordSecret(`sk-ant-advisor-${uniq()}${uniq()}`);
let provider;
let env;
const srv = useServer(
    async (ctx) => {
        env = await ctx.client.beta.environments.create({ name: `adv-${uniq()}` });
    },
    async () => {
        provider = await startScriptedProvider();
        return { env: { ANTHROPIC_BASE_URL: provider.url, ANTHROPIC_API_KEY: KEY,
            VIVARIUM_MODEL_RETRY_BASE_MS: '50', VIVARIUM_MODEL_MAX_RETRIES: '1' } };
    },
);
after(async () => provider?.close());

const ADVISOR = 'anthropic.advisor';
const ofType = (events, t) => events.filter((e) => e.type === t);
const idles = (events) => ofType(events, 'session.status_idle');
const sysOf = (body) => (typeof body.system === 'string' ? body.system : (body.system ?? []).map((b) => b.text).join(''));
const textsOf = (body) => body.messages.flatMap((m) => (typeof m.content === 'string' ? [m.content]
    : m.content.filter((b) => b.type === 'text').map((b) => b.text)));
const lastText = (body) => textsOf(body).at(-1) ?? '';
const isAdvisorRequest = (body) => !sysOf(body).startsWith('EXEC');

/** The executor consults its advisor on the task, then answers with what it was told. */
function executor({ advisor }) {
    return (body) => {
        if (isAdvisorRequest(body)) return advisor(body);
        const t = lastText(body);
        if (t.startsWith('[Advice from your advisor]')) return { text: `done: ${t.split('\n').slice(1).join(' ')}` };
        if (t.startsWith('[The advisor consultation ended without advice')) return { text: 'went on without advice' };
        return { text: 'consulting', tool_calls: [{ name: 'advisor', input: {} }] };
    };
}

async function advisedAgent(client, roster = []) {
    const tag = uniq();
    return client.beta.agents.create({
        name: `Exec-${tag}`, model: 'claude-sonnet-4-6', system: `EXEC ${tag}`,
        multiagent: { type: 'coordinator', agents: [...roster, { type: 'advisor', model: 'claude-opus-4-8' }] },
    });
}

describe('advisor', () => {
    test('the primary consults its advisor mid-turn; the advice arrives as agent.thread_message_received', async () => {
        provider.reset();
        const client = srv.client;
        provider.setDefault(executor({ advisor: () => ({ text: 'ADVICE: check the edge cases first',
            usage: { input_tokens: 1000, output_tokens: 100 } }) }));
        const agent = await advisedAgent(client);
        const session = await client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        await client.beta.sessions.events.send(session.id, { events: [userMessage('TASK: fix the parser')] });
        const events = await waitEvents(client, session.id, (ev) => idles(ev).length >= 1);

        assert.equal(idles(events).length, 1);
        assert.deepEqual(idles(events)[0].stop_reason, { type: 'end_turn' });
        // The documented order of a consultation on the session stream.
        const consultation = events.filter((e) => e.type.startsWith('session.thread_') || e.type.startsWith('agent.thread_'));
        assert.deepEqual(consultation.map((e) => e.type), ['session.thread_created', 'session.thread_status_running',
            'agent.thread_message_received', 'session.thread_status_idle', 'session.thread_status_terminated']);
        const thread = consultation[0].session_thread_id;
        assert.match(thread, /^sthr_/);
        for (const e of [consultation[0], consultation[1], consultation[3], consultation[4]]) {
            assert.equal(e.agent_name, ADVISOR);
            assert.equal(e.session_thread_id, thread);
        }
        assert.deepEqual(consultation[3].stop_reason, { type: 'end_turn' });
        const advice = consultation[2];
        assert.equal(advice.session_thread_id ?? null, null, 'delivered on the primary thread');
        assert.equal(advice.from_session_thread_id, thread);
        assert.equal(advice.from_agent_name, ADVISOR);
        assert.deepEqual(advice.content, [{ type: 'text', text: 'ADVICE: check the edge cases first' }]);
        // No tool use and no message sent for a consultation.
        assert.equal(ofType(events, 'agent.tool_use').length, 0);
        assert.equal(ofType(events, 'agent.thread_message_sent').length, 0);
        // The turn went on with the advice in the agent's context.
        const said = ofType(events, 'agent.message').map((e) => e.content[0].text);
        assert.deepEqual(said, ['consulting', 'done: ADVICE: check the edge cases first']);

        // What each model was sent: the executor is offered `advisor`; the advisor runs on its own
        // model, with no tools, reading the executor's conversation.
        const execReqs = provider.requests.filter((r) => !isAdvisorRequest(r.body));
        const advReqs = provider.requests.filter((r) => isAdvisorRequest(r.body));
        assert.equal(execReqs.length, 2);
        assert.equal(advReqs.length, 1);
        assert.ok(execReqs[0].body.tools.some((t) => t.name === 'advisor'));
        assert.equal(advReqs[0].body.model, 'claude-opus-4-8');
        assert.equal(execReqs[0].body.model, 'claude-sonnet-4-6');
        assert.ok(!(advReqs[0].body.tools ?? []).length, 'the advisor has no tools');
        assert.match(JSON.stringify(advReqs[0].body.messages), /TASK: fix the parser/);
        assert.match(JSON.stringify(advReqs[0].body.messages), /consulting/, 'what the executor said before consulting');
        assert.ok(!JSON.stringify(execReqs[1].body.messages).includes('"tool_use"'), 'no dangling tool_use in the conversation');

        // The thread list: the advisor thread in its two-field form, parented to the primary.
        const threads = await collect(client.beta.sessions.threads.list(session.id));
        const primary = threads.find((t) => t.parent_thread_id === null);
        const adv = threads.find((t) => t.id === thread);
        assert.deepEqual(adv.agent, { type: 'advisor', model: 'claude-opus-4-8' });
        assert.equal(adv.parent_thread_id, primary.id);
        assert.equal(adv.status, 'terminated');
        assert.equal(adv.usage.input_tokens, 1000, 'the consultation tokens are the advisor thread\'s');
        assert.equal(adv.usage.output_tokens, 100);
        const retrieved = await client.beta.sessions.threads.retrieve(thread, { session_id: session.id });
        assert.deepEqual(retrieved.agent, { type: 'advisor', model: 'claude-opus-4-8' });
        // Clients cannot send `redacted` blocks themselves: a 400 naming the block, nothing logged.
        await assert.rejects(client.beta.sessions.events.send(session.id, { events: [
            { type: 'user.message', content: [{ type: 'text', text: 'x' }, { type: 'redacted' }] }] }), (e) => {
            assert.equal(e.status, 400);
            assert.match(e.message, /events\[0\]\.content\[1\]\.type/);
            return true;
        });
        assert.equal((await collect(client.beta.sessions.events.list(session.id))).length, events.length);
    });

    test('the advisor is not a roster agent: list_agents does not show it, send_to_agent cannot reach it', async () => {
        provider.reset();
        const client = srv.client;
        const worker = await client.beta.agents.create({ name: `Worker-${uniq()}`, model: 'claude-haiku-4-5', system: 'WORKER' });
        provider.setDefault((body) => {
            const last = body.messages.at(-1);
            const results = typeof last.content === 'string' ? [] : last.content.filter((b) => b.type === 'tool_result');
            if (results.length) return { text: 'seen' };
            return { tool_calls: [{ name: 'list_agents', input: {} },
                { name: 'send_to_agent', input: { agent_name: ADVISOR, message: 'advise me' } }] };
        });
        const agent = await advisedAgent(client, [worker.id]);
        const session = await client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        await client.beta.sessions.events.send(session.id, { events: [userMessage('go')] });
        const events = await waitEvents(client, session.id, (ev) => idles(ev).length >= 1);
        const results = ofType(events, 'agent.tool_result');
        const listed = JSON.parse(results[0].content[0].text);
        assert.deepEqual(listed.agents.map((a) => a.name), [worker.name]);
        assert.equal(results[1].is_error, true);
        assert.match(results[1].content[0].text, /No agent named "anthropic\.advisor"/);
        assert.equal(ofType(events, 'session.thread_created').length, 0);
        assert.ok(provider.requests[0].body.tools.some((t) => t.name === 'advisor'), 'the primary can still consult it');
    });

    test('interrupting the advisor thread abandons the consultation; the turn goes on after a generic notice', async () => {
        provider.reset();
        const client = srv.client;
        provider.setDefault(executor({ advisor: () => ({ text: 'too late', delay_ms: 20_000 }) }));
        const agent = await advisedAgent(client);
        const session = await client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        await client.beta.sessions.events.send(session.id, { events: [userMessage('TASK: slow advice')] });
        let events = await waitEvents(client, session.id, (ev) => ofType(ev, 'session.thread_status_running').length === 1);
        const thread = ofType(events, 'session.thread_created')[0].session_thread_id;
        await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt', session_thread_id: thread }] });
        events = await waitEvents(client, session.id, (ev) => idles(ev).length >= 1);
        assert.deepEqual(idles(events)[0].stop_reason, { type: 'end_turn' });
        assert.equal(ofType(events, 'agent.thread_message_received').length, 0, 'no advice delivered');
        assert.deepEqual(ofType(events, 'session.thread_status_idle').map((e) => e.session_thread_id), [thread]);
        assert.deepEqual(ofType(events, 'session.thread_status_terminated').map((e) => e.session_thread_id), [thread]);
        assert.deepEqual(ofType(events, 'agent.message').map((e) => e.content[0].text), ['consulting', 'went on without advice']);
        assert.ok(provider.requests.some((r) => isAdvisorRequest(r.body) && r.closedEarly), 'the advisor request was cancelled');
        // Interrupting the finished advisor thread is a no-op.
        await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt', session_thread_id: thread }] });
        await sleep(300);
        const later = await collect(client.beta.sessions.events.list(session.id));
        assert.equal(idles(later).length, 1);
        assert.equal((await client.beta.sessions.retrieve(session.id)).status, 'idle');
    });

    test('a failed consultation never fails the turn', async () => {
        provider.reset();
        const client = srv.client;
        provider.setDefault(executor({ advisor: () => ({ error: { status: 400, message: 'advisor says no' } }) }));
        const agent = await advisedAgent(client);
        const session = await client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        await client.beta.sessions.events.send(session.id, { events: [userMessage('TASK: failing advice')] });
        const events = await waitEvents(client, session.id, (ev) => idles(ev).length >= 1);
        assert.deepEqual(idles(events)[0].stop_reason, { type: 'end_turn' });
        assert.equal(ofType(events, 'agent.thread_message_received').length, 0);
        assert.equal(ofType(events, 'session.thread_status_terminated').length, 1);
        assert.equal(ofType(events, 'session.error').length, 0);
        assert.deepEqual(ofType(events, 'agent.message').map((e) => e.content[0].text), ['consulting', 'went on without advice']);
    });

    test('a session-level interrupt during a consultation halts the session and terminates the advisor thread', async () => {
        provider.reset();
        const client = srv.client;
        provider.setDefault(executor({ advisor: () => ({ text: 'too late', delay_ms: 20_000 }) }));
        const agent = await advisedAgent(client);
        const session = await client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        await client.beta.sessions.events.send(session.id, { events: [userMessage('TASK: halt me')] });
        let events = await waitEvents(client, session.id, (ev) => ofType(ev, 'session.thread_status_running').length === 1);
        const thread = ofType(events, 'session.thread_created')[0].session_thread_id;
        await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
        events = await waitEvents(client, session.id, (ev) => idles(ev).length >= 1);
        assert.equal(ofType(events, 'agent.thread_message_received').length, 0);
        assert.deepEqual(ofType(events, 'session.thread_status_terminated').map((e) => e.session_thread_id), [thread]);
        assert.deepEqual(ofType(events, 'agent.message').map((e) => e.content[0].text), ['consulting'], 'the turn did not go on');
        assert.equal(provider.requests.filter((r) => !isAdvisorRequest(r.body)).length, 1);
        assert.equal((await client.beta.sessions.retrieve(session.id)).status, 'idle');
    });

    test('save-time rules: one advisor per roster, the reserved name, the advisor echoed last; writes nothing when refused', async () => {
        const client = srv.client;
        const worker = await client.beta.agents.create({ name: `Worker-${uniq()}`, model: 'claude-haiku-4-5' });
        const reserved = await client.beta.agents.create({ name: ADVISOR, model: 'claude-haiku-4-5' });
        const advisorEntry = { type: 'advisor', model: 'claude-opus-4-8' };
        // Echoed last whatever the submitted position, on create and on update.
        const lead = await client.beta.agents.create({ name: `Lead-${uniq()}`, model: 'claude-sonnet-4-6',
            multiagent: { type: 'coordinator', agents: [advisorEntry, worker.id] } });
        assert.deepEqual(lead.multiagent.agents.map((e) => e.type), ['agent', 'advisor']);
        assert.deepEqual(lead.multiagent.agents[1], advisorEntry);
        const updated = await client.beta.agents.update(lead.id, { version: lead.version,
            multiagent: { type: 'coordinator', agents: [advisorEntry, { type: 'self' }, worker.id] } });
        assert.deepEqual(updated.multiagent.agents.map((e) => e.type), ['agent', 'agent', 'advisor']);
        assert.deepEqual((await client.beta.agents.retrieve(lead.id)).multiagent.agents.at(-1), advisorEntry);

        const before = await collect(client.beta.agents.list());
        const refuse = async (agents, field, pattern) => {
            await assert.rejects(client.beta.agents.create({ name: `Bad-${uniq()}`, model: 'claude-sonnet-4-6',
                multiagent: { type: 'coordinator', agents } }), (e) => {
                assert.equal(e.status, 400);
                assert.equal(e.error?.error?.type, 'invalid_request_error');
                assert.ok(e.message.includes(field), e.message);
                assert.match(e.message, pattern);
                return true;
            });
        };
        await refuse([worker.id, advisorEntry, { type: 'advisor', model: 'claude-opus-4-7' }],
            '`multiagent.agents[2]`', /at most one advisor/);
        await refuse([reserved.id, advisorEntry], '`multiagent.agents[0]`', /reserved/);
        await refuse([{ type: 'advisor', model: 'claude-opus-4-8', max_uses: 2 }], '`multiagent.agents[0]', /max_uses/);
        assert.equal((await collect(client.beta.agents.list())).length, before.length, 'nothing stored');
        // Without an advisor, a member named anthropic.advisor is an ordinary roster agent.
        const plain = await client.beta.agents.create({ name: `Plain-${uniq()}`, model: 'claude-sonnet-4-6',
            multiagent: { type: 'coordinator', agents: [reserved.id] } });
        assert.equal(plain.multiagent.agents.length, 1);
        // Removing the advisor: a roster that omits it, or multiagent null when it is the only entry.
        const only = await advisedAgent(client);
        const cleared = await client.beta.agents.update(only.id, { version: only.version, multiagent: null });
        assert.equal(cleared.multiagent, null);
    });
    test('kill -9 mid-consultation: the advisor thread is terminated with no advice; the next turn goes on', async () => {
        const p2 = await startScriptedProvider();
        const serverEnv = { ANTHROPIC_BASE_URL: p2.url, ANTHROPIC_API_KEY: KEY,
            VIVARIUM_MODEL_RETRY_BASE_MS: '50', VIVARIUM_MODEL_MAX_RETRIES: '1' };
        const first = await startServer({ env: serverEnv });
        let second;
        try {
            const client = first.client;
            const e2 = await client.beta.environments.create({ name: `adv-k9-${uniq()}` });
            p2.setDefault(executor({ advisor: () => ({ text: 'partial', hang: true }) }));
            const agent = await advisedAgent(client);
            const session = await client.beta.sessions.create({ agent: agent.id, environment_id: e2.id });
            await client.beta.sessions.events.send(session.id, { events: [userMessage('TASK: crash')] });
            await waitEvents(client, session.id, (ev) => ofType(ev, 'span.model_request_start').some((e) => e.session_thread_id));
            while (!p2.requests.some((r) => isAdvisorRequest(r.body))) await sleep(20);
            await first.kill9();

            p2.setDefault(executor({ advisor: () => ({ text: 'unused' }) }));
            second = await startServer({ env: serverEnv, dataDir: first.dataDir, apiKey: first.apiKey });
            let events = await waitEvents(second.client, session.id, (ev) => idles(ev).length >= 1);
            const thread = ofType(events, 'session.thread_created')[0].session_thread_id;
            const mine = events.filter((e) => e.session_thread_id === thread);
            assert.deepEqual(mine.map((e) => e.type), ['session.thread_created', 'session.thread_status_running',
                'span.model_request_start', 'span.model_request_end', 'session.thread_status_terminated']);
            assert.equal(ofType(events, 'agent.thread_message_received').length, 0);
            const t = await second.client.beta.sessions.threads.retrieve(thread, { session_id: session.id });
            assert.equal(t.status, 'terminated');
            assert.equal((await second.client.beta.sessions.retrieve(session.id)).status, 'idle');
            // The next turn: the agent reads the generic notice in place of the lost advice.
            p2.setDefault((body) => (isAdvisorRequest(body) ? { text: 'unused' }
                : { text: JSON.stringify(body.messages).includes('[The advisor consultation ended without advice') ? 'noticed' : 'missed' }));
            await second.client.beta.sessions.events.send(session.id, { events: [userMessage('and now?')] });
            events = await waitEvents(second.client, session.id, (ev) => idles(ev).length >= 2);
            assert.equal(ofType(events, 'agent.message').at(-1).content[0].text, 'noticed');
        } finally {
            await second?.stop();
            await first.stop();
            await p2.close();
        }
    });
    test('multiagent_20261001: its enabled advisor runs the same consultations; enabled subagents or workflows are refused, naming the field', async () => {
        provider.reset();
        const client = srv.client;
        provider.setDefault(executor({ advisor: () => ({ text: 'ADVICE 2026' }) }));
        const tag = uniq();
        const create = (extra) => client.beta.agents.create({ name: `M-${uniq()}`, model: 'claude-sonnet-4-6', system: `EXEC ${tag}`,
            multiagent: { type: 'multiagent_20261001', advisor: { type: 'enabled', model: 'claude-opus-4-8' }, ...extra } });
        const runs = await create({ subagents: { type: 'disabled' }, workflows: { type: 'disabled' } });
        const session = await client.beta.sessions.create({ agent: runs.id, environment_id: env.id });
        await client.beta.sessions.events.send(session.id, { events: [userMessage('TASK: 2026')] });
        const events = await waitEvents(client, session.id, (ev) => idles(ev).length >= 1);
        const advice = ofType(events, 'agent.thread_message_received');
        assert.equal(advice.length, 1);
        assert.equal(advice[0].from_agent_name, ADVISOR);
        assert.deepEqual(advice[0].content, [{ type: 'text', text: 'ADVICE 2026' }]);
        assert.deepEqual(ofType(events, 'agent.message').map((e) => e.content[0].text), ['consulting', 'done: ADVICE 2026']);
        const adv = (await collect(client.beta.sessions.threads.list(session.id))).find((t) => t.parent_thread_id);
        assert.deepEqual(adv.agent, { type: 'advisor', model: 'claude-opus-4-8' });
        for (const [extra, field] of [[{}, 'subagents'], [{ subagents: { type: 'disabled' } }, 'workflows']]) {
            const agent = await create(extra);
            await assert.rejects(client.beta.sessions.create({ agent: agent.id, environment_id: env.id }), (e) => {
                assert.equal(e.status, 400);
                assert.ok(e.message.includes(`\`multiagent.${field}\``), e.message);
                return true;
            });
        }
    });
    test('the advisor called beside another tool: the tool runs after the consultation; its result precedes the advice in the next request', async () => {
        provider.reset();
        const client = srv.client;
        const tag = uniq();
        provider.setDefault((body) => {
            if (isAdvisorRequest(body)) return { text: 'ADVICE: both' };
            if (body.messages.length === 1) return { tool_calls: [{ name: 'advisor', input: {} }, { name: 'bash', input: { command: 'true' } }] };
            return { text: 'finished' };
        });
        const agent = await client.beta.agents.create({ name: `Exec-${tag}`, model: 'claude-sonnet-4-6', system: `EXEC ${tag}`,
            tools: [{ type: 'agent_toolset_20260401', default_config: { enabled: false },
                configs: [{ name: 'bash', enabled: true, permission_policy: { type: 'always_allow' } }] }],
            multiagent: { type: 'coordinator', agents: [{ type: 'advisor', model: 'claude-opus-4-8' }] } });
        const session = await client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        await client.beta.sessions.events.send(session.id, { events: [userMessage('TASK: both')] });
        const events = await waitEvents(client, session.id, (ev) => idles(ev).length >= 1);
        assert.deepEqual(idles(events)[0].stop_reason, { type: 'end_turn' });
        const types = events.map((e) => e.type);
        assert.deepEqual(ofType(events, 'agent.tool_use').map((e) => e.name), ['bash'], 'only the real tool is a tool use');
        assert.ok(types.indexOf('agent.thread_message_received') < types.indexOf('agent.tool_result'), 'the tool ran after the advice');
        const next = provider.requests.filter((r) => !isAdvisorRequest(r.body))[1].body;
        const last = next.messages.at(-1);
        assert.equal(last.role, 'user');
        assert.deepEqual(last.content.map((b) => b.type), ['tool_result', 'text']);
        assert.match(last.content[1].text, /ADVICE: both/);
        assert.ok(!JSON.stringify(next.messages).includes('"name":"advisor"'), 'no advisor tool_use in the history');
    });
});
