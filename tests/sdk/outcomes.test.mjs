// Outcomes through the official SDK (issue 15): user.define_outcome starts work on its own, a
// grader — a separate model request, with the rubric and the agent's work in its own context —
// answers after each attempt, span.outcome_evaluation_* carry its verdicts, the agent revises on
// needs_revision, and the session's outcome_evaluations shows where each outcome stands.
// The scripted provider plays both the agent and the grader; a grader request is the one whose
// system prompt starts "You are a grader".

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { startScriptedProvider } from '../provider/scripted-provider.mjs';
import { collect, idles, ofType, recordSecret, sleep, startServer, toFile, uniq, userMessage, useScriptedServer, waitEvents } from './helpers.mjs';

const KEY = recordSecret(`sk-ant-outcomes-${uniq()}${uniq()}`);
const serverEnv = () => ({
    ANTHROPIC_BASE_URL: srv.provider.url,
    ANTHROPIC_API_KEY: KEY,
    VIVARIUM_MODEL_RETRY_BASE_MS: '50',
    VIVARIUM_MODEL_MAX_RETRIES: '1',
    VIVARIUM_OUTCOME_HEARTBEAT_MS: '100',
});

const srv = useScriptedServer({ environment: 'oc', env: serverEnv });

const isGrader = (r) => typeof r.body.system === 'string' && r.body.system.startsWith('You are a grader');
const allText = (r) => r.body.messages.flatMap((m) => (typeof m.content === 'string' ? [m.content]
    : m.content.filter((b) => b.type === 'text').map((b) => b.text))).join('\n');

const RUBRIC = 'The report has a title line starting with "# ".';
const outcome = (extra = {}) => ({
    type: 'user.define_outcome',
    description: 'Write a one-line report about the weather.',
    rubric: { type: 'text', content: RUBRIC },
    ...extra,
});

async function newSession(client = srv.client, environmentId = srv.environment.id) {
    const agent = await client.beta.agents.create({
        name: `oc-${uniq()}`, model: 'claude-sonnet-4-6', system: 'You are the outcome test agent.',
    });
    return client.beta.sessions.create({ agent: agent.id, environment_id: environmentId });
}

describe('outcomes', () => {
    test('define_outcome alone starts work; needs_revision feedback reaches the agent; satisfied on the 2nd evaluation', async () => {
        srv.provider.reset();
        srv.provider.enqueue(
            { text: 'Sunny today.', usage: { input_tokens: 100, output_tokens: 10 } },
            // The grader's first verdict: JSON in a code fence, with prose around it.
            { text: 'Here is my verdict:\n```json\n{"result": "needs_revision", "explanation": "Criterion 1 unmet: add a title line."}\n```',
              usage: { input_tokens: 300, output_tokens: 20 } },
            { text: '# Weather\nSunny today.', usage: { input_tokens: 120, output_tokens: 12 } },
            // The second verdict without JSON: a "result:" line, the rest is the explanation.
            { text: 'Result: satisfied\nThe title line is present.', usage: { input_tokens: 310, output_tokens: 8 } },
        );
        const session = await newSession();
        const sent = await srv.client.beta.sessions.events.send(session.id, { events: [outcome()] });
        const define = sent.data[0];
        assert.equal(define.type, 'user.define_outcome');
        assert.match(define.outcome_id, /^outc_/);
        assert.equal(define.max_iterations, 3);
        assert.equal(typeof define.processed_at, 'string', 'processed on receipt');

        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 1);
        assert.equal(idles(events).length, 1, 'one idle: the whole outcome is one run');
        assert.deepEqual(idles(events)[0].stop_reason, { type: 'end_turn' });
        // Heartbeats come every 100 ms here: checked apart from the order of the rest.
        const t = events.map((e) => e.type).filter((x) => x !== 'span.outcome_evaluation_ongoing');
        assert.deepEqual(t.filter((x) => x.startsWith('span.outcome') || x === 'agent.message' || x.startsWith('session.status')), [
            'session.status_running',
            'agent.message',
            'span.outcome_evaluation_start',
            'span.outcome_evaluation_end',
            'agent.message',
            'span.outcome_evaluation_start',
            'span.outcome_evaluation_end',
            'session.status_idle',
        ]);
        for (const [i, e] of events.entries()) {
            if (e.type !== 'span.outcome_evaluation_start') continue;
            const next = events.slice(i + 1).find((x) => x.type !== 'span.model_request_start');
            assert.equal(next.type, 'span.outcome_evaluation_ongoing', 'a heartbeat as the grader request leaves');
        }
        const starts = ofType(events, 'span.outcome_evaluation_start');
        const ends = ofType(events, 'span.outcome_evaluation_end');
        assert.deepEqual(starts.map((s) => [s.outcome_id, s.iteration]), [[define.outcome_id, 0], [define.outcome_id, 1]]);
        for (const s of starts) assert.equal(typeof s.processed_at, 'string');
        assert.deepEqual(ends.map((e) => [e.outcome_evaluation_start_id, e.iteration, e.result]),
            [[starts[0].id, 0, 'needs_revision'], [starts[1].id, 1, 'satisfied']]);
        assert.equal(ends[0].explanation, 'Criterion 1 unmet: add a title line.');
        assert.equal(ends[1].explanation, 'The title line is present.');
        assert.deepEqual(ends[0].usage, { input_tokens: 300, output_tokens: 20, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
        for (const o of ofType(events, 'span.outcome_evaluation_ongoing')) {
            assert.equal(o.outcome_id, define.outcome_id);
            assert.ok([0, 1].includes(o.iteration));
        }

        // Four model requests: agent, grader, agent, grader.
        assert.deepEqual(srv.provider.requests.map(isGrader), [false, true, false, true]);
        const [agent1, grader1, agent2] = srv.provider.requests;
        assert.equal(agent1.body.system, 'You are the outcome test agent.');
        assert.match(allText(agent1), /Write a one-line report about the weather\./, 'the outcome is the task');
        // The grader's context is its own: rubric + the agent's work, not the agent's system prompt or tools.
        assert.ok(!JSON.stringify(grader1.body).includes('You are the outcome test agent.'));
        assert.equal(grader1.body.tools, undefined);
        assert.match(allText(grader1), new RegExp(RUBRIC.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
        assert.match(allText(grader1), /Sunny today\./);
        // The feedback reaches the agent's next request; the grader's exchange itself does not.
        assert.match(allText(agent2), /Criterion 1 unmet: add a title line\./);
        assert.ok(!allText(agent2).includes('Here is my verdict'), 'the grader conversation is not part of the agent\'s');

        const s = await srv.client.beta.sessions.retrieve(session.id);
        assert.equal(s.status, 'idle');
        assert.equal(s.outcome_evaluations.length, 1);
        const ev = s.outcome_evaluations[0];
        assert.equal(ev.type, 'outcome_evaluation');
        assert.equal(ev.outcome_id, define.outcome_id);
        assert.equal(ev.result, 'satisfied');
        assert.equal(ev.iteration, 1);
        assert.equal(ev.explanation, 'The title line is present.');
        assert.equal(typeof ev.completed_at, 'string');
        // Grader tokens count in the session's usage.
        assert.equal(s.usage.input_tokens, 100 + 300 + 120 + 310);
        assert.equal(s.usage.output_tokens, 10 + 20 + 12 + 8);
    });

    test('runs out of iterations: max_iterations_reached, one final agent turn, then idle', async () => {
        srv.provider.reset();
        srv.provider.enqueue(
            { text: 'attempt 1' },
            { text: '{"result":"needs_revision","explanation":"still missing the title"}' },
            { text: 'attempt 2' },
            { text: '{"verdict":"needs revision","feedback":"still no title"}' },
            { text: 'final: I could not add a title.' },
        );
        const session = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [outcome({ max_iterations: 2 })] });
        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 1);
        const ends = ofType(events, 'span.outcome_evaluation_end');
        assert.deepEqual(ends.map((e) => [e.iteration, e.result]), [[0, 'needs_revision'], [1, 'max_iterations_reached']]);
        assert.equal(ends[1].explanation, 'still no title');
        assert.equal(srv.provider.requests.length, 5, 'agent, grader, agent, grader, final agent turn — no third evaluation');
        assert.deepEqual(srv.provider.requests.map(isGrader), [false, true, false, true, false]);
        assert.match(allText(srv.provider.requests[4]), /still no title/);
        assert.match(allText(srv.provider.requests[4]), /last evaluation/);
        const msgs = ofType(events, 'agent.message');
        assert.equal(msgs.at(-1).content[0].text, 'final: I could not add a title.');
        assert.deepEqual(idles(events)[0].stop_reason, { type: 'end_turn' });
        const s = await srv.client.beta.sessions.retrieve(session.id);
        assert.equal(s.outcome_evaluations[0].result, 'max_iterations_reached');
        assert.equal(s.outcome_evaluations[0].iteration, 1);
        await sleep(200);
        assert.equal(srv.provider.requests.length, 5, 'nothing runs after the idle');
    });

    test('interrupt while the grader runs: interrupted, the grader request is cancelled, the session is reusable', async () => {
        srv.provider.reset();
        srv.provider.enqueue({ text: 'my work' }, { text: 'thinking about it', hang: true });
        const session = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [outcome()] });
        await srv.provider.waitForRequests(2);
        const mid = await waitEvents(srv.client, session.id, (ev) => ofType(ev, 'span.outcome_evaluation_ongoing').length >= 2);
        assert.equal((await srv.client.beta.sessions.retrieve(session.id)).outcome_evaluations[0].result, 'evaluating');
        const start = ofType(mid, 'span.outcome_evaluation_start')[0];
        await srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 1);
        const end = ofType(events, 'span.outcome_evaluation_end')[0];
        assert.equal(end.result, 'interrupted');
        assert.equal(end.outcome_evaluation_start_id, start.id);
        assert.deepEqual(idles(events)[0].stop_reason, { type: 'end_turn' });
        await sleep(150);
        assert.ok(srv.provider.requests[1].closedEarly, 'the grader request was cancelled');
        const heartbeats = ofType(await collect(srv.client.beta.sessions.events.list(session.id)), 'span.outcome_evaluation_ongoing').length;
        await sleep(300);
        assert.equal(ofType(await collect(srv.client.beta.sessions.events.list(session.id)), 'span.outcome_evaluation_ongoing').length,
            heartbeats, 'no heartbeat after the end');
        const s = await srv.client.beta.sessions.retrieve(session.id);
        assert.equal(s.status, 'idle');
        assert.equal(s.outcome_evaluations[0].result, 'interrupted');

        // The interrupted outcome is terminal: a new one is accepted and runs.
        srv.provider.enqueue({ text: '# Title\nagain' }, { text: '{"result":"satisfied","explanation":"ok"}' });
        await srv.client.beta.sessions.events.send(session.id, { events: [outcome()] });
        const after = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 2);
        assert.equal(ofType(after, 'span.outcome_evaluation_end').at(-1).result, 'satisfied');
    });

    test('while the agent revises, outcome_evaluations says running on the next iteration', async () => {
        srv.provider.reset();
        srv.provider.enqueue({ text: 'v1' }, { text: '{"result":"needs_revision","explanation":"more"}' }, { text: 'v2', hang: true });
        const session = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [outcome()] });
        await srv.provider.waitForRequests(3);
        const s = await srv.client.beta.sessions.retrieve(session.id);
        assert.equal(s.status, 'running');
        assert.deepEqual([s.outcome_evaluations[0].result, s.outcome_evaluations[0].iteration, s.outcome_evaluations[0].explanation],
            ['running', 1, 'more']);
        assert.equal(s.outcome_evaluations[0].completed_at, null);
        await srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 1);
        const end = ofType(events, 'span.outcome_evaluation_end').at(-1);
        assert.deepEqual([end.result, end.iteration, end.outcome_evaluation_start_id], ['interrupted', 1, '']);
    });

    test('interrupt while the agent works (before any evaluation): interrupted with an empty start id', async () => {
        srv.provider.reset();
        srv.provider.enqueue({ text: 'working', hang: true });
        const session = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [outcome()] });
        await srv.provider.waitForRequests(1);
        await srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 1);
        const end = ofType(events, 'span.outcome_evaluation_end')[0];
        assert.equal(end.result, 'interrupted');
        assert.equal(end.outcome_evaluation_start_id, '');
        assert.equal(end.iteration, 0);
        assert.equal(ofType(events, 'span.outcome_evaluation_start').length, 0);
        assert.equal(srv.provider.requests.length, 1);
    });

    test('one outcome at a time; a grader answer without a verdict ends the outcome failed, never a guess', async () => {
        srv.provider.reset();
        srv.provider.enqueue({ text: 'work', delay_ms: 300 }, { text: 'I am not sure what to say.' }, { text: 'answer to x' });
        const session = await newSession();
        await srv.client.beta.sessions.events.send(session.id, { events: [outcome()] });
        const second = await srv.client.beta.sessions.events.send(session.id, { events: [outcome()] }).catch((e) => e);
        assert.equal(second.status, 400);
        assert.match(second.message, /outcome outc_\w+ is still/);
        const two = await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('x')] }).then(() => null);
        assert.equal(two, null, 'steering messages are still accepted (they queue)');
        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 2);
        const end = ofType(events, 'span.outcome_evaluation_end')[0];
        assert.equal(end.result, 'failed');
        assert.match(end.explanation, /held no verdict.*I am not sure what to say\./s);
        // The queued message waited for the outcome and then had a turn of its own.
        assert.ok(events.indexOf(end) < events.findIndex((e) => e.type === 'agent.message' && e.content[0].text === 'answer to x'));
        assert.equal(srv.provider.requests.length, 3);
    });

    test('initial_events with only define_outcome reaches a terminal idle with an evaluation', async () => {
        srv.provider.reset();
        srv.provider.enqueue({ text: '# Report\nok' }, { text: 'satisfied — all criteria are met' });
        const agent = await srv.client.beta.agents.create({ name: `oc-${uniq()}`, model: 'claude-sonnet-4-6' });
        const session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: srv.environment.id, initial_events: [outcome()] });
        const events = await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 1);
        assert.equal(ofType(events, 'span.outcome_evaluation_end')[0].result, 'satisfied');
        const s = await srv.client.beta.sessions.retrieve(session.id);
        assert.equal(s.outcome_evaluations[0].result, 'satisfied');
    });

    test('a file rubric is resolved to its text and graded with it', async () => {
        srv.provider.reset();
        srv.provider.enqueue({ text: 'done' }, { text: '{"result":"satisfied","explanation":"file rubric met"}' });
        const file = await srv.client.beta.files.upload({ file: await toFile(Buffer.from('Rubric from a file: mention rain.'), 'rubric.md', { type: 'text/markdown' }) });
        const session = await newSession();
        const sent = await srv.client.beta.sessions.events.send(session.id, {
            events: [{ type: 'user.define_outcome', description: 'd', rubric: { type: 'file', file_id: file.id } }],
        });
        assert.deepEqual(sent.data[0].rubric, { type: 'text', content: 'Rubric from a file: mention rain.' });
        await waitEvents(srv.client, session.id, (ev) => idles(ev).length >= 1);
        assert.match(allText(srv.provider.requests[1]), /Rubric from a file: mention rain\./);
    });
});

describe('outcomes across a restart', () => {
    test('an outcome waiting for a custom tool result survives kill -9 and goes on to its evaluation', async () => {
        const p2 = await startScriptedProvider();
        const saved = srv.provider;
        srv.provider = p2;
        const first = await startServer({ env: serverEnv() });
        let second;
        try {
            p2.enqueue({ tool_calls: [{ name: 'lookup', input: { q: 'weather' } }] });
            const e2 = await first.client.beta.environments.create({ name: `ocra-${uniq()}` });
            const agent = await first.client.beta.agents.create({
                name: `ocra-${uniq()}`, model: 'claude-sonnet-4-6',
                tools: [{ type: 'custom', name: 'lookup', description: 'look something up', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }],
            });
            const session = await first.client.beta.sessions.create({ agent: agent.id, environment_id: e2.id });
            await first.client.beta.sessions.events.send(session.id, { events: [outcome({ max_iterations: 2 })] });
            let events = await waitEvents(first.client, session.id, (ev) => idles(ev).length >= 1);
            assert.equal(idles(events)[0].stop_reason.type, 'requires_action');
            const use = ofType(events, 'agent.custom_tool_use')[0];
            await first.kill9();

            second = await startServer({ env: serverEnv(), dataDir: first.dataDir, apiKey: first.apiKey });
            await sleep(300);
            assert.equal((await second.client.beta.sessions.retrieve(session.id)).outcome_evaluations[0].result, 'running');
            p2.enqueue({ text: '# Weather\nRain.' }, { text: '{"result":"needs_revision","explanation":"say more"}' },
                { text: '# Weather\nRain all day.' }, { text: '{"result":"satisfied","explanation":"good"}' });
            await second.client.beta.sessions.events.send(session.id, {
                events: [{ type: 'user.custom_tool_result', custom_tool_use_id: use.id, content: [{ type: 'text', text: 'rain' }] }],
            });
            events = await waitEvents(second.client, session.id, (ev) => idles(ev).length >= 2);
            assert.deepEqual(idles(events).at(-1).stop_reason, { type: 'end_turn' });
            // The restored outcome kept its task and its max_iterations: two evaluations, the 2nd satisfied.
            assert.deepEqual(ofType(events, 'span.outcome_evaluation_end').map((e) => [e.iteration, e.result]),
                [[0, 'needs_revision'], [1, 'satisfied']]);
            assert.deepEqual(p2.requests.map(isGrader), [false, false, true, false, true]);
            assert.match(allText(p2.requests[2]), /Rain\./);
            assert.match(allText(p2.requests[2]), /The report has a title line/);
            assert.equal((await second.client.beta.sessions.retrieve(session.id)).outcome_evaluations[0].result, 'satisfied');
        } finally {
            await second?.stop();
            await first.stop();
            srv.provider = saved;
            await p2.close();
        }
    });

    test('kill -9 mid-outcome: the outcome ends failed, the session is idle, nothing hangs or replays', async () => {
        const p2 = await startScriptedProvider();
        const saved = srv.provider;
        srv.provider = p2;
        const first = await startServer({ env: serverEnv() });
        let second;
        try {
            p2.enqueue({ text: 'work' }, { text: 'grading…', hang: true });
            const e2 = await first.client.beta.environments.create({ name: `ock9-${uniq()}` });
            const session = await newSession(first.client, e2.id);
            const sent = await first.client.beta.sessions.events.send(session.id, { events: [outcome()] });
            await p2.waitForRequests(2);
            await first.kill9();
            second = await startServer({ env: serverEnv(), dataDir: first.dataDir, apiKey: first.apiKey });
            const events = await waitEvents(second.client, session.id, (ev) => idles(ev).length >= 1);
            const end = ofType(events, 'span.outcome_evaluation_end')[0];
            assert.equal(end.outcome_id, sent.data[0].outcome_id);
            assert.equal(end.result, 'failed');
            assert.equal(end.outcome_evaluation_start_id, ofType(events, 'span.outcome_evaluation_start')[0].id);
            assert.match(end.explanation, /stopped/);
            assert.deepEqual(idles(events).at(-1).stop_reason, { type: 'retries_exhausted' });
            const s = await second.client.beta.sessions.retrieve(session.id);
            assert.equal(s.status, 'idle');
            assert.equal(s.outcome_evaluations[0].result, 'failed');
            await sleep(300);
            assert.equal(p2.requests.length, 2, 'nothing replayed after the restart');
        } finally {
            await second?.stop();
            await first.stop();
            srv.provider = saved;
            await p2.close();
        }
    });
});
