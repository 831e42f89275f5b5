// Multiagent threads through the official SDK (issue 15 item 1): a coordinator delegates with the
// API's delegation tools (list_agents, send_to_agent); each roster agent runs in its own thread
// with its own conversation, model and system prompt; the five thread endpoints; thread events on
// the session stream; a thread's always_ask tool answered on the primary stream; interrupting one
// thread; kill -9 mid-delegation. The scripted provider answers from the conversation it is sent
// (setDefault with a function), because threads run concurrently.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { startScriptedProvider } from '../provider/scripted-provider.mjs';
import { collect, idles, ofType, readStreamUntil, recordSecret, sleep, startServer, uniq, userMessage, useScriptedServer, waitEvents } from './helpers.mjs';

const KEY = recordSecret(`sk-ant-threads-${uniq()}${uniq()}`);
const serverEnv = () => ({
    ANTHROPIC_BASE_URL: srv.provider.url,
    ANTHROPIC_API_KEY: KEY,
    VIVARIUM_MODEL_RETRY_BASE_MS: '50',
    VIVARIUM_MODEL_MAX_RETRIES: '1',
});

const srv = useScriptedServer({ environment: 'th', env: serverEnv });

const textsOf = (body) => body.messages.flatMap((m) => (typeof m.content === 'string' ? [m.content]
    : m.content.filter((b) => b.type === 'text').map((b) => b.text)));
const lastText = (body) => textsOf(body).at(-1) ?? '';
const hasToolResult = (body) => {
    const last = body.messages.at(-1);
    return typeof last.content !== 'string' && last.content.some((b) => b.type === 'tool_result');
};
const sysOf = (body) => (typeof body.system === 'string' ? body.system : (body.system ?? []).map((b) => b.text).join(''));

/** Creates two workers and a coordinator rostering both (B pinned to version 1). */
async function roster(client, { workerBTools } = {}) {
    const tag = uniq();
    const a = await client.beta.agents.create({
        name: `Alpha-${tag}`, description: 'Researches alpha.', model: 'claude-haiku-4-5', system: `WORKER-A ${tag}`,
    });
    const b = await client.beta.agents.create({
        name: `Beta-${tag}`, description: 'Researches beta.', model: 'claude-haiku-4-5', system: `WORKER-B ${tag}`,
        ...(workerBTools ? { tools: workerBTools } : {}),
    });
    const coord = await client.beta.agents.create({
        name: `Lead-${tag}`, model: 'claude-sonnet-4-6', system: `COORD ${tag}`,
        multiagent: { type: 'coordinator', agents: [a.id, { type: 'agent', id: b.id, version: 1 }] },
    });
    return { a, b, coord, tag };
}

/**
 * The scripted model: the coordinator sends `task` to each of `targets` on the user's first
 * message, says "delegated" after the tool results, and acknowledges each report; a worker
 * answers with `worker(body)` (default: "<name> result for <task>").
 */
function scriptedModel({ targets, worker = {} }) {
    return (body) => {
        const sys = sysOf(body);
        if (sys.startsWith('COORD')) {
            const t = lastText(body);
            if (hasToolResult(body)) return { text: 'delegated' };
            if (t.startsWith('[Report from agent')) return { text: `noted: ${t.split('\n').slice(1).join(' ')}` };
            if (t.startsWith('FOLLOW-UP')) {
                // Follow up in the thread the first delegation created (its id is in that tool result).
                const sent = JSON.stringify(body.messages).match(/in thread (sthr_[A-Za-z0-9]+)/);
                return { tool_calls: [{ name: 'send_to_agent', input: { session_thread_id: sent[1], message: 'second question' } }] };
            }
            return { tool_calls: targets.map(([name, message]) => ({ name: 'send_to_agent', input: { agent_name: name, message } })) };
        }
        const kind = sys.startsWith('WORKER-A') ? 'A' : 'B';
        if (worker[kind]) return worker[kind](body);
        return { text: `${kind} result for ${lastText(body)}` };
    };
}

describe('multiagent threads', () => {
    test('a coordinator delegates to two roster agents; threads listed with status; thread events list and stream', async () => {
        srv.provider.reset();
        const client = srv.client;
        const { a, b, coord, tag } = await roster(client);
        srv.provider.setDefault(scriptedModel({ targets: [[a.name, 'research alpha'], [b.name, 'research beta']] }));
        const session = await client.beta.sessions.create({ agent: coord.id, environment_id: srv.environment.id });
        await client.beta.sessions.events.send(session.id, { events: [userMessage('TASK: research both')] });

        const events = await waitEvents(client, session.id, (ev) => idles(ev).length >= 1
            && ofType(ev, 'agent.thread_message_received').filter((e) => !e.session_thread_id && e.processed_at).length === 2
            && ofType(ev, 'agent.message').filter((e) => !e.session_thread_id && e.content[0].text.startsWith('noted')).length === 2);
        // The session stays running while any thread works: exactly one session-level idle, at the end.
        assert.equal(idles(events).length, 1, 'no session idle while a thread was still working');
        assert.deepEqual(idles(events)[0].stop_reason, { type: 'end_turn' });
        assert.equal((await client.beta.sessions.retrieve(session.id)).status, 'idle');

        // Primary stream: the delegation tool calls, thread creation, messages sent and reports received.
        const uses = ofType(events, 'agent.tool_use').filter((e) => e.name === 'send_to_agent');
        assert.equal(uses.length, 2);
        const created = ofType(events, 'session.thread_created');
        assert.deepEqual(created.map((e) => e.agent_name).sort(), [a.name, b.name].sort());
        const threadOf = Object.fromEntries(created.map((e) => [e.agent_name, e.session_thread_id]));
        const sent = ofType(events, 'agent.thread_message_sent').filter((e) => !e.session_thread_id);
        assert.deepEqual(sent.map((e) => [e.to_agent_name, e.to_session_thread_id, e.content[0].text]).sort(),
            [[a.name, threadOf[a.name], 'research alpha'], [b.name, threadOf[b.name], 'research beta']].sort());
        const reports = ofType(events, 'agent.thread_message_received').filter((e) => !e.session_thread_id);
        assert.deepEqual(reports.map((e) => [e.from_agent_name, e.from_session_thread_id, e.content[0].text]).sort(),
            [[a.name, threadOf[a.name], 'A result for research alpha'], [b.name, threadOf[b.name], 'B result for research beta']].sort());

        // Each delegate ran with its own model, system prompt and conversation; only the coordinator
        // was offered the delegation tools.
        const workerA = srv.provider.requests.filter((r) => sysOf(r.body) === `WORKER-A ${tag}`);
        assert.equal(workerA.length, 1);
        assert.equal(workerA[0].body.model, 'claude-haiku-4-5');
        assert.deepEqual(textsOf(workerA[0].body), ['research alpha'], 'the delegate sees only its task');
        assert.ok(!(workerA[0].body.tools ?? []).some((t) => t.name === 'send_to_agent'), 'one level of delegation');
        const coordReq = srv.provider.requests.find((r) => sysOf(r.body) === `COORD ${tag}`);
        assert.equal(coordReq.body.model, 'claude-sonnet-4-6');
        assert.deepEqual(coordReq.body.tools.map((t) => t.name).filter((n) => n.endsWith('_agents') || n === 'send_to_agent').sort(),
            ['list_agents', 'send_to_agent']);
        const lastCoord = srv.provider.requests.filter((r) => sysOf(r.body) === `COORD ${tag}`).at(-1);
        assert.ok(textsOf(lastCoord.body).some((t) => t.includes('A result for research alpha')), 'reports reach the coordinator');

        // Threads: the primary (parent null) and one per delegation, each idle.
        const threads = await collect(client.beta.sessions.threads.list(session.id));
        assert.equal(threads.length, 3);
        const primary = threads.find((t) => t.parent_thread_id === null);
        assert.equal(primary.agent.name, coord.name);
        assert.equal(primary.type, 'session_thread');
        for (const w of [a, b]) {
            const t = threads.find((x) => x.id === threadOf[w.name]);
            assert.equal(t.parent_thread_id, primary.id);
            assert.equal(t.status, 'idle');
            assert.equal(t.session_id, session.id);
            assert.equal(t.agent.id, w.id);
            assert.equal(t.agent.version, 1);
            assert.equal(t.agent.system, w.system);
            assert.equal(t.archived_at, null);
            assert.ok(t.usage.output_tokens > 0);
        }
        assert.deepEqual((await collect(client.beta.sessions.threads.list(session.id, { statuses: ['running'] }))), []);
        const one = await client.beta.sessions.threads.retrieve(threadOf[a.name], { session_id: session.id });
        assert.equal(one.agent.name, a.name);

        // A thread's own events: its task, statuses, its answer and its report — nothing of the others.
        const aEvents = await collect(client.beta.sessions.threads.events.list(threadOf[a.name], { session_id: session.id }));
        assert.ok(aEvents.every((e) => e.session_thread_id === threadOf[a.name]), JSON.stringify(aEvents.map((e) => e.type)));
        const aTypes = aEvents.map((e) => e.type);
        for (const t of ['session.thread_created', 'agent.thread_message_received', 'session.thread_status_running',
            'span.model_request_start', 'agent.message', 'agent.thread_message_sent', 'session.thread_status_idle'])
            assert.ok(aTypes.includes(t), `${t} in ${aTypes}`);
        assert.equal(ofType(aEvents, 'agent.thread_message_received')[0].content[0].text, 'research alpha');
        assert.equal(ofType(aEvents, 'session.thread_status_idle').at(-1).agent_name, a.name);
        // Paging: one event per page gives the same events in the same order.
        const paged = await collect(client.beta.sessions.threads.events.list(threadOf[a.name], { session_id: session.id, limit: 1 }));
        assert.deepEqual(paged.map((e) => e.id), aEvents.map((e) => e.id));

        // The thread's stream replays after Last-Event-ID, only that thread's events.
        const stream = await client.beta.sessions.threads.events.stream(threadOf[a.name], { session_id: session.id },
            { headers: { 'Last-Event-ID': aEvents[0].id } });
        const seen = await readStreamUntil(stream, (e) => e.type === 'session.thread_status_idle');
        assert.deepEqual(seen.map((e) => e.id), aEvents.slice(1).map((e) => e.id));

        // Unknown thread → 404.
        await assert.rejects(client.beta.sessions.threads.retrieve('sthr_nope', { session_id: session.id }), (e) => e.status === 404);
        // Archive: a delegate thread that is idle; it ends terminated with archived_at.
        const archived = await client.beta.sessions.threads.archive(threadOf[b.name], { session_id: session.id });
        assert.equal(archived.status, 'terminated');
        assert.ok(archived.archived_at);
        await assert.rejects(client.beta.sessions.threads.archive(primary.id, { session_id: session.id }), (e) => e.status === 400);
    });

    test('each thread reports its own stats and usage (null until its first status / first idle), priced at its model', async () => {
        srv.provider.reset();
        const client = srv.client;
        const { a, b, coord, tag } = await roster(client);
        // Worker A answers after 300 ms, worker B after 1.5 s; every reply has known usage.
        const WORKER_USAGE = { input_tokens: 1000000, output_tokens: 100000, cache_read_input_tokens: 200000, cache_creation_input_tokens: 40000 };
        const COORD_USAGE = { input_tokens: 100000, output_tokens: 1000 };
        const model = scriptedModel({
            targets: [[a.name, 'research alpha'], [b.name, 'research beta']],
            worker: {
                A: (body) => ({ text: `A result for ${lastText(body)}`, delay_ms: 300 }),
                B: (body) => ({ text: `B result for ${lastText(body)}`, delay_ms: 1500 }),
            },
        });
        srv.provider.setDefault((body) => {
            const reply = model(body);
            return { ...reply, usage: sysOf(body).startsWith('COORD') ? COORD_USAGE : WORKER_USAGE };
        });
        const session = await client.beta.sessions.create({ agent: coord.id, environment_id: srv.environment.id });
        const [fresh] = await collect(client.beta.sessions.threads.list(session.id));
        assert.equal(fresh.stats, null, 'no status transition yet');
        assert.equal(fresh.usage, null, 'no idle transition yet');
        await client.beta.sessions.events.send(session.id, { events: [userMessage('TASK: research both')] });

        // While B's only request is in flight, B's thread has stats (it went running) but no usage yet.
        const bCreated = await waitEvents(client, session.id, (ev) => ofType(ev, 'session.thread_status_running')
            .some((e) => e.agent_name === b.name));
        const bId = ofType(bCreated, 'session.thread_created').find((e) => e.agent_name === b.name).session_thread_id;
        const bRunning = await client.beta.sessions.threads.retrieve(bId, { session_id: session.id });
        assert.equal(bRunning.status, 'running', 'B answers after 1.5 s');
        assert.equal(bRunning.usage, null, 'usage is null until the first idle');
        assert.equal(bRunning.stats.startup_seconds, 0, 'a child thread starts immediately');

        await waitEvents(client, session.id, (ev) => idles(ev).length >= 1
            && ofType(ev, 'agent.message').filter((e) => !e.session_thread_id && e.content[0].text.startsWith('noted')).length === 2);
        const threads = await collect(client.beta.sessions.threads.list(session.id));
        assert.equal(threads.length, 3);
        const primary = threads.find((t) => t.parent_thread_id === null);
        const price = { // USD per MTok: claude-haiku-4-5 (workers), claude-sonnet-4-6 (coordinator)
            haiku: { input: 1, output: 5, read: 0.1, write: 1.25 },
            sonnet: { input: 3, output: 15, read: 0.3, write: 3.75 },
        };
        const cents = (u, p, n = 1) => String(Math.round(n * (u.input_tokens * p.input + u.output_tokens * p.output
            + (u.cache_read_input_tokens ?? 0) * p.read + (u.cache_creation_input_tokens ?? 0) * p.write) / 1e4));
        for (const [w, minActive] of [[a, 0.3], [b, 1.5]]) {
            const t = threads.find((x) => x.agent.name === w.name);
            assert.deepEqual(t.usage, {
                input_tokens: 1000000, output_tokens: 100000, cache_read_input_tokens: 200000,
                cache_creation: { ephemeral_1h_input_tokens: 0, ephemeral_5m_input_tokens: 40000 },
                active_seconds: t.stats.active_seconds,
                list_cost: { amount: cents(WORKER_USAGE, price.haiku), currency: 'USD' },
            }, w.name);
            assert.equal(t.usage.list_cost.amount, '157'); // $1 + $0.50 + $0.02 + $0.05
            assert.equal(t.stats.startup_seconds, 0);
            assert.ok(t.stats.active_seconds >= minActive, `${w.name} active ${t.stats.active_seconds} s ≥ ${minActive} s`);
            assert.ok(t.stats.active_seconds < 15);
            assert.ok(t.stats.duration_seconds >= t.stats.active_seconds);
        }
        // The primary thread: the coordinator's own requests only, priced at its model.
        const coordRequests = srv.provider.requests.filter((r) => sysOf(r.body) === `COORD ${tag}`).length;
        assert.ok(coordRequests >= 3, `coordinator requests: ${coordRequests}`);
        assert.equal(primary.usage.input_tokens, coordRequests * 100000);
        assert.equal(primary.usage.output_tokens, coordRequests * 1000);
        assert.deepEqual(primary.usage.list_cost, { amount: cents(COORD_USAGE, price.sonnet, coordRequests), currency: 'USD' });
        assert.ok(primary.stats.active_seconds >= 1.5, 'the session ran while B worked');
        assert.ok(primary.stats.startup_seconds >= 0 && primary.stats.startup_seconds <= primary.stats.duration_seconds);
        // Tokens add up to the session's (no compaction here).
        const s = await client.beta.sessions.retrieve(session.id);
        assert.equal(threads.reduce((n, t) => n + t.usage.input_tokens, 0), s.usage.input_tokens);
        assert.equal(threads.reduce((n, t) => n + t.usage.output_tokens, 0), s.usage.output_tokens);

        // An archived thread's duration is frozen; a live one's keeps growing.
        const archived = await client.beta.sessions.threads.archive(bId, { session_id: session.id });
        await sleep(300);
        const later = await client.beta.sessions.threads.retrieve(bId, { session_id: session.id });
        assert.equal(later.stats.duration_seconds, archived.stats.duration_seconds);
        assert.equal(later.stats.active_seconds, archived.stats.active_seconds);
        const primaryLater = await client.beta.sessions.threads.retrieve(primary.id, { session_id: session.id });
        assert.ok(primaryLater.stats.duration_seconds > primary.stats.duration_seconds);
        assert.equal(primaryLater.stats.active_seconds, primary.stats.active_seconds, 'idle time is not active time');
    });

    test("a thread's always_ask tool is cross-posted to the primary stream and answered there", async () => {
        srv.provider.reset();
        const client = srv.client;
        const bash = [{ type: 'agent_toolset_20260401', default_config: { enabled: false },
            configs: [{ name: 'bash', enabled: true, permission_policy: { type: 'always_ask' } }] }];
        const { b } = await roster(client, { workerBTools: bash });
        const { coord } = { coord: await client.beta.agents.create({
            name: `Lead2-${uniq()}`, model: 'claude-sonnet-4-6', system: `COORD ${uniq()}`,
            multiagent: { type: 'coordinator', agents: [b.id] } }) };
        srv.provider.setDefault(scriptedModel({
            targets: [[b.name, 'run it']],
            worker: { B: (body) => (hasToolResult(body) ? { text: 'B ran it' } : { tool_calls: [{ name: 'bash', input: { command: 'echo hi' } }] }) },
        }));
        const session = await client.beta.sessions.create({ agent: coord.id, environment_id: srv.environment.id });
        await client.beta.sessions.events.send(session.id, { events: [userMessage('TASK: run')] });
        let events = await waitEvents(client, session.id, (ev) => idles(ev).length >= 1);
        const stop = idles(events)[0].stop_reason;
        assert.equal(stop.type, 'requires_action');
        const use = events.find((e) => e.id === stop.event_ids[0]);
        assert.equal(use.type, 'agent.tool_use');
        assert.equal(use.name, 'bash');
        const threadId = ofType(events, 'session.thread_created')[0].session_thread_id;
        assert.equal(use.session_thread_id, threadId, 'cross-posted with the thread that asks');
        const t = await client.beta.sessions.threads.retrieve(threadId, { session_id: session.id });
        assert.equal(t.status, 'idle');
        // An answer naming another thread is refused and writes nothing.
        // (Its last character changed for certain: an id already ending in 'x' once made this flaky.)
        const otherThread = threadId.slice(0, -1) + (threadId.endsWith('x') ? 'y' : 'x');
        await assert.rejects(client.beta.sessions.events.send(session.id, { events: [
            { type: 'user.tool_confirmation', tool_use_id: use.id, result: 'allow', session_thread_id: otherThread }] }),
        (e) => e.status === 400);
        await client.beta.sessions.events.send(session.id, { events: [
            { type: 'user.tool_confirmation', tool_use_id: use.id, result: 'allow', session_thread_id: threadId }] });
        events = await waitEvents(client, session.id, (ev) => idles(ev).length >= 2);
        assert.deepEqual(idles(events).at(-1).stop_reason, { type: 'end_turn' });
        const result = events.find((e) => e.type === 'agent.tool_result' && e.tool_use_id === use.id);
        assert.equal(result.session_thread_id, threadId);
        const confirmation = ofType(events, 'user.tool_confirmation')[0];
        assert.equal(confirmation.session_thread_id, threadId);
        assert.ok(ofType(events, 'agent.thread_message_received').some((e) => !e.session_thread_id && e.content[0].text === 'B ran it'));
    });

    test('an advisor roster entry beside agents runs: the session is created, the advisor is echoed last', async () => {
        // Advisor consultations run (advisor.test.mjs); a session of a roster with one is no longer refused.
        const client = srv.client;
        const { a } = await roster(client);
        const advised = await client.beta.agents.create({
            name: `Advised-${uniq()}`, model: 'claude-sonnet-4-6',
            multiagent: { type: 'coordinator', agents: [{ type: 'advisor', model: 'claude-opus-4-8' }, a.id] },
        });
        assert.deepEqual(advised.multiagent.agents.at(-1), { type: 'advisor', model: 'claude-opus-4-8' });
        assert.equal(advised.multiagent.agents[0].id, a.id);
        const session = await client.beta.sessions.create({ agent: advised.id, environment_id: srv.environment.id });
        assert.deepEqual(session.agent.multiagent.agents.at(-1), { type: 'advisor', model: 'claude-opus-4-8' });
    });

    test('user.interrupt with session_thread_id stops that thread only', async () => {
        srv.provider.reset();
        const client = srv.client;
        const { a, b, coord } = await roster(client);
        srv.provider.setDefault(scriptedModel({
            targets: [[a.name, 'slow job'], [b.name, 'quick job']],
            worker: { A: () => ({ text: 'A never finishes', hang: true }) },
        }));
        const session = await client.beta.sessions.create({ agent: coord.id, environment_id: srv.environment.id });
        await client.beta.sessions.events.send(session.id, { events: [userMessage('TASK: both')] });
        let events = await waitEvents(client, session.id, (ev) =>
            ofType(ev, 'agent.message').some((e) => !e.session_thread_id && e.content[0].text.startsWith('noted: B result'))
            && ofType(ev, 'span.model_request_start').some((e) => e.session_thread_id
                && ofType(ev, 'session.thread_created').find((c) => c.agent_name === a.name)?.session_thread_id === e.session_thread_id));
        assert.equal(idles(events).length, 0, 'the session runs while thread A works');
        assert.equal((await client.beta.sessions.retrieve(session.id)).status, 'running');
        const aThread = ofType(events, 'session.thread_created').find((c) => c.agent_name === a.name).session_thread_id;
        await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt', session_thread_id: aThread }] });
        events = await waitEvents(client, session.id, (ev) => idles(ev).length >= 1);
        assert.deepEqual(idles(events)[0].stop_reason, { type: 'end_turn' });
        const aIdle = ofType(events, 'session.thread_status_idle').filter((e) => e.session_thread_id === aThread);
        assert.deepEqual(aIdle.at(-1).stop_reason, { type: 'end_turn' });
        const aSpans = events.filter((e) => e.session_thread_id === aThread);
        assert.equal(ofType(aSpans, 'span.model_request_start').length, ofType(aSpans, 'span.model_request_end').length);
        // The interrupt is the thread's; nothing was reported for the interrupted thread.
        assert.equal(ofType(events, 'user.interrupt')[0].session_thread_id, aThread);
        assert.ok(!ofType(events, 'agent.thread_message_received').some((e) => e.from_session_thread_id === aThread));
        const threads = await collect(client.beta.sessions.threads.list(session.id));
        assert.ok(threads.every((t) => t.status === 'idle'), JSON.stringify(threads.map((t) => t.status)));
        // An unknown thread id is a 400 that writes nothing.
        await assert.rejects(client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt', session_thread_id: 'sthr_unknown' }] }),
            (e) => e.status === 400);
    });

    test('user.interrupt without session_thread_id stops every thread, and the session idles once', async () => {
        srv.provider.reset();
        const client = srv.client;
        const { a, b, coord, tag } = await roster(client);
        srv.provider.setDefault(scriptedModel({
            targets: [[a.name, 'slow a'], [b.name, 'slow b']],
            worker: { A: () => ({ text: 'A never finishes', hang: true }), B: () => ({ text: 'B never finishes', hang: true }) },
        }));
        const session = await client.beta.sessions.create({ agent: coord.id, environment_id: srv.environment.id });
        await client.beta.sessions.events.send(session.id, { events: [userMessage('TASK: both slow')] });
        await waitEvents(client, session.id, (ev) => ofType(ev, 'agent.message').some((e) => !e.session_thread_id));
        await srv.provider.waitForRequests(4); // coordinator ×2, A, B
        const threadSpans = (ev) => ofType(ev, 'span.model_request_start').filter((e) => e.session_thread_id).length;
        await waitEvents(client, session.id, (ev) => threadSpans(ev) === 2);
        assert.equal(srv.provider.requests.filter((r) => sysOf(r.body).startsWith('WORKER') && sysOf(r.body).endsWith(tag)).length, 2);
        await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
        const events = await waitEvents(client, session.id, (ev) => idles(ev).length >= 1);
        await sleep(200);
        const after = await collect(client.beta.sessions.events.list(session.id));
        assert.equal(idles(after).length, 1, 'one session idle for the whole interrupt');
        assert.deepEqual(idles(events)[0].stop_reason, { type: 'end_turn' });
        for (const c of ofType(after, 'session.thread_created')) {
            const mine = after.filter((e) => e.session_thread_id === c.session_thread_id);
            assert.deepEqual(ofType(mine, 'session.thread_status_idle').at(-1).stop_reason, { type: 'end_turn' });
            assert.equal(ofType(mine, 'span.model_request_start').length, ofType(mine, 'span.model_request_end').length);
        }
        assert.equal((await client.beta.sessions.retrieve(session.id)).status, 'idle');
        const threads = await collect(client.beta.sessions.threads.list(session.id));
        assert.ok(threads.every((t) => t.status === 'idle'), JSON.stringify(threads.map((t) => t.status)));
    });

    test('kill -9 mid-delegation: the thread is closed, the session idles, and the thread keeps its history', async () => {
        const p2 = await startScriptedProvider();
        const first = await startServer({ env: { ...serverEnv(), ANTHROPIC_BASE_URL: p2.url } });
        let second;
        try {
            const client = first.client;
            const e2 = await client.beta.environments.create({ name: `th-k9-${uniq()}` });
            const { a, coord, tag } = await roster(client);
            let hang = true;
            p2.setDefault(scriptedModel({
                targets: [[a.name, 'research alpha']],
                worker: { A: (body) => (hang ? { text: 'partial', hang: true } : { text: `A again: ${textsOf(body).join(' | ')}` }) },
            }));
            const session = await client.beta.sessions.create({ agent: coord.id, environment_id: e2.id });
            await client.beta.sessions.events.send(session.id, { events: [userMessage('TASK: alpha')] });
            await waitEvents(client, session.id, (ev) => ofType(ev, 'span.model_request_start').some((e) => e.session_thread_id)
                && ofType(ev, 'agent.message').some((e) => !e.session_thread_id));
            while (!p2.requests.some((r) => sysOf(r.body) === `WORKER-A ${tag}`)) await sleep(20);
            assert.equal((await client.beta.sessions.retrieve(session.id)).status, 'running');
            await first.kill9();

            hang = false;
            second = await startServer({ env: { ...serverEnv(), ANTHROPIC_BASE_URL: p2.url }, dataDir: first.dataDir, apiKey: first.apiKey });
            let events = await waitEvents(second.client, session.id, (ev) => idles(ev).length >= 1);
            const aThread = ofType(events, 'session.thread_created')[0].session_thread_id;
            const aEvents = events.filter((e) => e.session_thread_id === aThread);
            assert.deepEqual(ofType(aEvents, 'session.thread_status_idle').at(-1).stop_reason, { type: 'retries_exhausted' });
            assert.deepEqual(ofType(aEvents, 'session.error').at(-1).error.retry_status, { type: 'exhausted' });
            assert.equal(ofType(aEvents, 'span.model_request_start').length, ofType(aEvents, 'span.model_request_end').length);
            assert.equal((await second.client.beta.sessions.retrieve(session.id)).status, 'idle');
            const t = await second.client.beta.sessions.threads.retrieve(aThread, { session_id: session.id });
            assert.equal(t.status, 'idle');

            // The coordinator follows up in the same thread: the delegate still has its first task.
            await second.client.beta.sessions.events.send(session.id, { events: [userMessage('FOLLOW-UP please')] });
            events = await waitEvents(second.client, session.id, (ev) => idles(ev).length >= 2
                && ofType(ev, 'agent.thread_message_received').some((e) => !e.session_thread_id && e.content[0].text.startsWith('A again')));
            const report = ofType(events, 'agent.thread_message_received').find((e) => !e.session_thread_id && e.content[0].text.startsWith('A again'));
            assert.equal(report.from_session_thread_id, aThread);
            assert.match(report.content[0].text, /research alpha/);
            assert.match(report.content[0].text, /second question/);
            assert.equal(ofType(events, 'session.thread_created').length, 1, 'no new thread for a follow-up');
        } finally {
            await second?.stop();
            await first.stop();
            await p2.close();
        }
    });
});
