// The built-in toolset in a real VM through the official SDK: a scripted model's tool_use runs
// in the session's libvirt VM (TCG without KVM) and its agent.tool_result comes back from the
// guest; the hard TTL (metadata vivarium.hard_ttl_seconds) ends a session and destroys its VM.
// Runs under ctest as `sdk_sandbox_tools` (label sandbox) with the sandbox test environment
// (shared guest image cache, TCG, warm pool of one, prewarm).

import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';

import { idles, sleep, toFile, userMessage } from '../helpers.mjs';
import { listSandboxes, newSession, PREWARM, useSandboxServer, waitIdles, waitSessionEvents } from './sandbox-helpers.mjs';

const srv = useSandboxServer({ environment: 'tools', env: PREWARM });

describe('built-in tools in the session VM', () => {
    test("the model's tool_use runs in the VM; agent.tool_result carries the guest's output", async () => {
        srv.provider.reset();
        srv.provider.enqueue(
            { tool_calls: [{ name: 'write', input: { file_path: 'notes.txt', content: 'hello from the model\n' } }] },
            { tool_calls: [{ name: 'bash', input: { command: 'cat notes.txt; echo $((6*7)) $(uname -n)' } }] },
            { tool_calls: [{ name: 'read', input: { file_path: '/workspace/notes.txt' } }, { name: 'bash', input: { command: 'exit 0; ' } }] },
            { text: 'All done.' },
        );
        const session = await newSession(srv, 'tools');
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('use the sandbox')] });
        const events = await waitIdles(srv, session.id, 1, 300_000);
        assert.deepEqual(idles(events).at(-1).stop_reason, { type: 'end_turn' });
        const uses = events.filter((e) => e.type === 'agent.tool_use');
        const results = events.filter((e) => e.type === 'agent.tool_result');
        assert.equal(uses.length, 4);
        const resultOf = (use) => results.find((r) => r.tool_use_id === use.id);

        const write = resultOf(uses[0]);
        assert.notEqual(write.is_error, true); // is_error is optional on the wire (absent = false)
        assert.equal(write.content[0].text, 'wrote 21 bytes to /workspace/notes.txt');
        const bash = resultOf(uses[1]);
        assert.notEqual(bash.is_error, true, bash.content[0].text);
        assert.equal(bash.content[0].text, 'hello from the model\n42 vivarium');
        const read = resultOf(uses[2]);
        assert.equal(read.content[0].text, '     1\thello from the model');
        // `exit` ends the persistent shell: an error result saying so, never invented output.
        const exit = resultOf(uses[3]);
        assert.equal(exit.is_error, true);
        assert.match(exit.content[0].text, /shell ended/);

        // The model was sent the VM's output as the tool_result of its call.
        const sent = srv.provider.requests[2].body.messages.at(-1).content.find((b) => b.type === 'tool_result');
        assert.equal(sent.tool_use_id, uses[1].id);
        assert.equal(sent.content[0].text, 'hello from the model\n42 vivarium');
        // The session's VM is a claimed sandbox.
        assert.ok((await listSandboxes(srv)).length >= 1);
    });

    test('user.interrupt cancels a running tool in the VM: idle at once, the command is killed, the session goes on', async () => {
        srv.provider.reset();
        srv.provider.enqueue(
            // A first call makes sure the VM is claimed and the shell is up, so the long command
            // starts as soon as its tool_use is logged.
            { tool_calls: [{ name: 'bash', input: { command: 'echo ready' } }] },
            { tool_calls: [{ name: 'bash', input: { command: 'echo started > /tmp/marker; sleep 120; echo finished >> /tmp/marker' } }] },
            { tool_calls: [{ name: 'bash', input: { command: 'cat /tmp/marker; pgrep -x sleep || echo no-sleep' } }] },
            { text: 'checked' },
        );
        const session = await newSession(srv, 'tools');
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('run something long')] });
        await waitSessionEvents(srv, session.id, (ev) => ev.filter((e) => e.type === 'agent.tool_use').length >= 2, 300_000);
        await sleep(1000);
        const t0 = Date.now();
        await srv.client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
        let events = await waitIdles(srv, session.id, 1, 10_000);
        assert.ok(Date.now() - t0 < 5000, `idle ${Date.now() - t0} ms after the interrupt`);
        assert.deepEqual(idles(events).at(-1).stop_reason, { type: 'end_turn' });
        const use = events.filter((e) => e.type === 'agent.tool_use')[1];
        const result = events.find((e) => e.type === 'agent.tool_result' && e.tool_use_id === use.id);
        assert.equal(result.is_error, true);
        assert.match(result.content[0].text, /Interrupted by the user while running/);
        assert.equal(srv.provider.requests.length, 2, 'the interrupted result was not sent to the model in this turn');

        // The next turn runs in the same VM: the command was killed, not left running.
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('check')] });
        events = await waitIdles(srv, session.id, 2, 120_000);
        assert.equal(srv.provider.requests.length, 4);
        assert.deepEqual(idles(events).at(-1).stop_reason, { type: 'end_turn' });
        const check = events.filter((e) => e.type === 'agent.tool_result').at(-1);
        assert.equal(check.content[0].text, 'started\nno-sleep');
    });

    test('every built-in tool through the SDK: edit, glob, grep, read ranges, the persistent shell, restart, timeout, web_fetch, web_search', async () => {
        // web_fetch runs on the host under the environment's policy (unrestricted here): a page
        // served on loopback.
        const page = http.createServer((req, res) => {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.end(`fetched ${req.url}`);
        });
        await new Promise((resolve) => page.listen(0, '127.0.0.1', resolve));
        const pageUrl = `http://127.0.0.1:${page.address().port}/doc`;
        try {
            const calls = [
                { name: 'write', input: { file_path: 'src/app.js', content: 'const a = 1;\nconst b = 2;\nconst c = 2;\n' } },
                { name: 'edit', input: { file_path: 'src/app.js', old_string: 'const b = 2;', new_string: 'const b = 3;' } },
                { name: 'edit', input: { file_path: 'src/app.js', old_string: 'missing text', new_string: 'x' } },
                { name: 'edit', input: { file_path: 'src/app.js', old_string: ' = ', new_string: ' := ' } },
                { name: 'edit', input: { file_path: 'src/app.js', old_string: 'const ', new_string: 'let ', replace_all: true } },
                { name: 'glob', input: { pattern: '**/*.js' } },
                { name: 'grep', input: { pattern: 'let [bc]' } },
                { name: 'read', input: { file_path: 'src/app.js', view_range: [2, 3] } },
                { name: 'bash', input: { command: 'cd src && export VIV_X=kept' } },
                { name: 'bash', input: { command: 'pwd; echo $VIV_X' } },
                { name: 'bash', input: { restart: true } },
                { name: 'bash', input: { command: 'pwd; echo "[$VIV_X]"' } },
                { name: 'bash', input: { command: 'sleep 30', timeout_ms: 1000 } },
                { name: 'web_fetch', input: { url: pageUrl } },
                { name: 'web_search', input: { query: 'vivarium' } },
            ];
            srv.provider.reset();
            srv.provider.enqueue(...calls.map((c) => ({ tool_calls: [c] })), { text: 'done' });
            const session = await newSession(srv, 'tools');
            await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('exercise every tool')] });
            const events = await waitIdles(srv, session.id, 1, 300_000);
            const uses = events.filter((e) => e.type === 'agent.tool_use');
            const results = events.filter((e) => e.type === 'agent.tool_result');
            assert.equal(uses.length, calls.length);
            const out = uses.map((u) => {
                const r = results.find((x) => x.tool_use_id === u.id);
                return { error: r.is_error === true, text: r.content.map((b) => b.text ?? '').join('') };
            });
            const ok = (i, re) => {
                assert.equal(out[i].error, false, `${calls[i].name} #${i}: ${out[i].text}`);
                assert.match(out[i].text, re, `${calls[i].name} #${i}`);
            };
            const fails = (i, re) => {
                assert.equal(out[i].error, true, `${calls[i].name} #${i} should fail: ${out[i].text}`);
                assert.match(out[i].text, re, `${calls[i].name} #${i}`);
            };
            ok(0, /^wrote 39 bytes to \/workspace\/src\/app\.js$/);
            ok(1, /^edited \/workspace\/src\/app\.js \(1 replacement\)$/);
            fails(2, /not found|no match|0 /i);
            fails(3, /3 |several|multiple|more than once/i); // three matches without replace_all
            ok(4, /\(3 replacements\)/);
            ok(5, /src\/app\.js/);
            ok(6, /app\.js[\s\S]*let b = 3;[\s\S]*let c = 2;/);
            assert.equal(out[7].text, '     2\tlet b = 3;\n     3\tlet c = 2;');
            ok(8, /^\(no output\)$/);
            assert.equal(out[9].text, '/workspace/src\nkept'); // cwd and environment persist
            ok(10, /restarted/);
            assert.equal(out[11].text, '/workspace\n[]'); // a new shell
            fails(12, /timed out after 1000 ms/);
            ok(13, /fetched \/doc/);
            fails(14, /no search endpoint configured/);
        } finally {
            page.close();
        }
    });

    test('session resources: those given at creation and one added while the VM runs are in the workspace', async () => {
        const upload = async (text, name) =>
            srv.client.beta.files.upload({ file: await toFile(Buffer.from(text), name, { type: 'text/plain' }) });
        const first = await upload('alpha\n', 'a.txt');
        const second = await upload('beta\n', 'b.txt');
        srv.provider.reset();
        srv.provider.enqueue(
            { tool_calls: [{ name: 'bash', input: { command: 'cat /workspace/in/a.txt; echo edited > /workspace/in/a.txt' } }] },
            { text: 'ok' },
        );
        const session = await newSession(srv, 'tools', {
            resources: [{ type: 'file', file_id: first.id, mount_path: '/workspace/in/a.txt' }],
        });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('read a')] });
        let events = await waitIdles(srv, session.id, 1, 300_000);
        let results = events.filter((e) => e.type === 'agent.tool_result');
        assert.equal(results.at(-1).content[0].text, 'alpha');

        // Added while the session's VM runs: it is put in at once, and a tool call right after
        // the add waits for it.
        await srv.client.beta.sessions.resources.add(session.id, {
            type: 'file',
            file_id: second.id,
            mount_path: '/workspace/in/b.txt',
        });
        srv.provider.enqueue(
            { tool_calls: [{ name: 'bash', input: { command: 'cat /workspace/in/b.txt /workspace/in/a.txt' } }] },
            { text: 'ok' },
        );
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('read b')] });
        events = await waitIdles(srv, session.id, 2, 300_000);
        results = events.filter((e) => e.type === 'agent.tool_result');
        assert.notEqual(results.at(-1).is_error, true, results.at(-1).content[0].text);
        // a.txt keeps the model's edit: resources already in the workspace are not put in again.
        assert.equal(results.at(-1).content[0].text, 'beta\nedited');
        assert.equal(events.filter((e) => e.type === 'session.error').length, 0);
    });

    test('the hard TTL ends the session with session.error + session.status_terminated and destroys its VM', async () => {
        srv.provider.reset();
        srv.provider.enqueue({ tool_calls: [{ name: 'bash', input: { command: 'echo alive' } }] }, { text: 'ok' });
        const before = (await listSandboxes(srv)).length;
        const session = await newSession(srv, 'tools', { metadata: { 'vivarium.hard_ttl_seconds': '20' } });
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('run something')] });
        let events = await waitIdles(srv, session.id, 1, 120_000);
        const result = events.find((e) => e.type === 'agent.tool_result');
        assert.equal(result.content[0].text, 'alive');
        assert.equal((await listSandboxes(srv)).length, before + 1, 'the session got its own VM');

        events = await waitSessionEvents(srv, session.id, (ev) => ev.some((e) => e.type === 'session.status_terminated'), 60_000);
        const types = events.map((e) => e.type);
        const err = events.find((e) => e.type === 'session.error');
        assert.ok(err, 'a session.error explains the end');
        assert.equal(err.error.type, 'unknown_error');
        assert.deepEqual(err.error.retry_status, { type: 'terminal' });
        assert.match(err.error.message, /hard time limit of 20 seconds/);
        assert.equal(types.indexOf('session.error'), types.length - 2);
        assert.equal(types.at(-1), 'session.status_terminated');
        const after = await srv.client.beta.sessions.retrieve(session.id);
        assert.equal(after.status, 'terminated');
        // Its VM is gone.
        const deadline = Date.now() + 30_000;
        while ((await listSandboxes(srv)).length !== before && Date.now() < deadline) await sleep(200);
        assert.equal((await listSandboxes(srv)).length, before);
        // A terminated session takes no new events.
        await assert.rejects(srv.client.beta.sessions.events.send(session.id, { events: [userMessage('again')] }));
    });
});
