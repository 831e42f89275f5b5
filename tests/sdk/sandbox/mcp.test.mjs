// An oversized MCP tool result in a real session VM through the official SDK (issue 13 item 3):
// server-everything's `echo` (tests/mcp, Streamable HTTP on 127.0.0.1) returns 60,006
// characters, over the 50,000-character limit; the full text is written to
// /mnt/session/mcp_results/<mcp_tool_use id>.txt in the session's VM, the model gets a preview
// plus that path, and the agent's own `read` and `bash` tools open the file; an agent without
// either gets the text truncated at the limit instead. Runs under ctest as
// `sdk_sandbox_mcp` (label sandbox) with the sandbox test environment (TCG, warm pool of one).

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { startEverything } from '../mcp-servers.mjs';
import { userMessage } from '../helpers.mjs';
import { newSession, PREWARM, TOOLSET, useSandboxServer, waitSessionEvents } from './sandbox-helpers.mjs';

let everything;
const srv = useSandboxServer({
    environment: 'mcp-vm',
    env: async () => {
        everything = await startEverything();
        return PREWARM;
    },
});
after(async () => {
    await everything?.kill();
});

/** A session whose agent has server-everything (`everything`, always allowed) beside `toolset`. */
const everythingSession = (toolset) =>
    newSession(srv, 'mcp-vm', {
        agent: {
            mcp_servers: [{ type: 'url', name: 'everything', url: everything.url }],
            tools: [toolset, { type: 'mcp_toolset', mcp_server_name: 'everything', default_config: { permission_policy: { type: 'always_allow' } } }],
        },
    });

/** Asks the session to "echo a lot"; returns the log once the turn ended (stop_reason end_turn). */
async function echoTurn(session, timeoutMs) {
    await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('echo a lot')] });
    return waitSessionEvents(srv, session.id, (ev) => ev.some((e) => e.type === 'session.status_idle' && e.stop_reason?.type === 'end_turn'), timeoutMs);
}

const blocksOf = (body) => body.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : []));
const textOf = (block) => (Array.isArray(block.content) ? block.content.map((c) => c.text ?? '').join('') : String(block.content));

describe('an MCP result over the size limit, in the session VM', () => {
    test('saved to /mnt/session/mcp_results/<id>.txt; the model gets a preview plus the path and reads the file with its own tools', async () => {
        const big = 'a'.repeat(59_000) + 'TAIL'.repeat(250); // echoed: "Echo: " + 60,000 characters
        srv.provider.reset();
        srv.provider.enqueue({ tool_calls: [{ name: 'mcp__everything__echo', input: { message: big } }] });
        // The model answers from what it was sent: it opens the path the preview names.
        let step = 0;
        srv.provider.setDefault((body) => {
            step += 1;
            if (step > 1) return { text: 'Read the saved result.' };
            const last = blocksOf(body).filter((b) => b.type === 'tool_result').at(-1);
            const found = /\/mnt\/session\/mcp_results\/[A-Za-z0-9_]+\.txt/.exec(textOf(last));
            return {
                tool_calls: [
                    { name: 'read', input: { file_path: found?.[0] ?? '/nonexistent' } },
                    { name: 'bash', input: { command: `wc -c < ${found?.[0] ?? '/nonexistent'}` } },
                ],
            };
        });
        const session = await everythingSession(TOOLSET);
        const events = await echoTurn(session, 600_000);
        const use = events.find((e) => e.type === 'agent.mcp_tool_use');
        const result = events.find((e) => e.type === 'agent.mcp_tool_result');
        assert.ok(use && result, events.map((e) => e.type).join(', '));
        const path = `/mnt/session/mcp_results/${use.id}.txt`;

        // What the model got (the event carries the same): a 2,000-character preview and the path.
        assert.notEqual(result.is_error, true); // optional on the wire (absent = false)
        assert.equal(result.content.length, 1);
        const preview = result.content[0].text;
        assert.ok(preview.startsWith(`Echo: ${'a'.repeat(1994)}\n\n[`), preview.slice(1990, 2100));
        assert.ok(!preview.includes('TAIL'));
        assert.ok(preview.includes(path), preview.slice(2000));
        assert.match(preview, /60006 characters, over the 50000-character limit/);
        const second = srv.provider.requests[1].body;
        const tr = blocksOf(second).find((b) => b.type === 'tool_result' && b.tool_use_id === use.id);
        assert.deepEqual(tr.content, result.content);

        // The agent's own tools read the full text back from the VM.
        const toolResults = events.filter((e) => e.type === 'agent.tool_result');
        const read = toolResults.find((r) => r.content[0].text.includes('Echo: a'));
        assert.ok(read && !read.is_error, JSON.stringify(toolResults).slice(0, 500));
        assert.ok(read.content[0].text.trimEnd().endsWith(`${'a'.repeat(100)}${'TAIL'.repeat(250)}`), 'the whole text is in the file');
        const wc = toolResults.find((r) => r !== read);
        assert.ok(wc && !wc.is_error, JSON.stringify(wc));
        assert.equal(wc.content[0].text.trim(), '60006');
    });

    test('an agent with neither read nor bash: nothing is saved; the model gets the first 50,000 characters and a note saying why', async () => {
        const big = 'c'.repeat(59_000) + 'TAIL'.repeat(250);
        srv.provider.reset();
        srv.provider.enqueue({ tool_calls: [{ name: 'mcp__everything__echo', input: { message: big } }] }, { text: 'Cut.' });
        const session = await everythingSession({
            type: 'agent_toolset_20260401',
            default_config: { enabled: false },
            configs: [{ name: 'glob', enabled: true }],
        });
        const events = await echoTurn(session, 120_000);
        const result = events.find((e) => e.type === 'agent.mcp_tool_result');
        const text = result.content[0].text;
        assert.ok(text.startsWith(`${`Echo: ${big}`.slice(0, 50_000)}\n\n[`), text.slice(49_990, 50_100));
        assert.ok(!text.includes('TAIL'));
        assert.match(text.slice(50_000), /neither the read nor the bash tool/);
        assert.ok(!text.includes('/mnt/session/mcp_results/'), 'no path to a file that was not written');
        assert.deepEqual(blocksOf(srv.provider.requests[1].body).find((b) => b.type === 'tool_result').content, result.content);
    });
});
