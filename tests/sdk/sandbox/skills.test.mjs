// A custom skill in a real session VM through the official SDK: its files are under
// /mnt/skills/<name>/ (byte-identical, read-only even for root), and the model is pointed at
// them in the system prompt (name, description, folder) rather than given their text.
// Runs under ctest as `sdk_sandbox_skills` (label sandbox) with the sandbox test environment.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { startScriptedProvider } from '../../provider/scripted-provider.mjs';
import { collect, recordSecret, sleep, toFile, uniq, useServer, userMessage } from '../helpers.mjs';

const ANTHROPIC_KEY = recordSecret(`sk-ant-scripted-${uniq()}${uniq()}`);

let provider;
let env;
const srv = useServer(
    async (ctx) => {
        env = await ctx.client.beta.environments.create({ name: `skills-vm-${uniq()}` });
    },
    async () => {
        provider = await startScriptedProvider();
        return { env: { ANTHROPIC_BASE_URL: provider.url, ANTHROPIC_API_KEY: ANTHROPIC_KEY, VIVARIUM_SANDBOX_PREWARM: '1' } };
    },
);
after(async () => provider?.close());

async function waitEvents(sessionId, pred, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    let events = [];
    while (Date.now() < deadline) {
        events = await collect(srv.client.beta.sessions.events.list(sessionId));
        if (pred(events)) return events;
        await sleep(100);
    }
    throw new Error(`timed out; events: ${events.map((e) => e.type).join(', ')}`);
}

describe('skills in the session VM', () => {
    test('the files are readable under /mnt/skills/<name>/, read-only, and the prompt names the folder', async () => {
        const name = `vm-skill-${uniq()}`.toLowerCase();
        const description = `Says hello from inside the VM (${uniq()}).`;
        const md = `---\nname: ${name}\ndescription: ${description}\n---\n\nRun scripts/hello.sh.\n`;
        const script = '#!/bin/sh\necho "hello from the skill script"\n';
        const skill = await srv.client.beta.skills.create({
            files: [await toFile(Buffer.from(md), `${name}/SKILL.md`), await toFile(Buffer.from(script), `${name}/scripts/hello.sh`)],
        });
        const agent = await srv.client.beta.agents.create({
            name: `skills-vm-${uniq()}`,
            model: 'claude-sonnet-4-6',
            tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_allow' } } }],
            skills: [{ type: 'custom', skill_id: skill.id }],
        });
        const session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });

        const dir = `/mnt/skills/${name}`;
        provider.reset();
        provider.enqueue(
            { tool_calls: [{ name: 'read', input: { file_path: `${dir}/SKILL.md` } }] },
            {
                tool_calls: [
                    {
                        name: 'bash',
                        input: {
                            command:
                                `sh ${dir}/scripts/hello.sh; cmp ${dir}/SKILL.md - <<'EOF' && echo same\n${md}EOF\n` +
                                `echo x > ${dir}/SKILL.md 2>/dev/null || echo write-refused; ` +
                                `touch ${dir}/new 2>/dev/null || echo create-refused; stat -c %a ${dir}/SKILL.md`,
                        },
                    },
                ],
            },
            { text: 'Done.' },
        );
        await srv.client.beta.sessions.events.send(session.id, { events: [userMessage('use your skill')] });
        const events = await waitEvents(session.id, (ev) => ev.some((e) => e.type === 'session.status_idle'), 300_000);
        assert.equal(events.filter((e) => e.type === 'session.error').length, 0, JSON.stringify(events.filter((e) => e.type === 'session.error')));
        const results = events.filter((e) => e.type === 'agent.tool_result');
        assert.equal(results.length, 2);
        assert.notEqual(results[0].is_error, true, results[0].content[0].text);
        assert.match(results[0].content[0].text, new RegExp(`description: ${description.replace(/[()]/g, '\\$&')}`));
        assert.match(results[0].content[0].text, /Run scripts\/hello\.sh\./);
        // The script runs, the file is byte-identical, and writing is refused by the read-only
        // mount (EROFS: the tools run as root, so permissions alone would not stop them).
        assert.match(
            results[1].content[0].text,
            /^hello from the skill script\nsame\n[^\n]*SKILL\.md: Read-only file system\nwrite-refused\ncreate-refused\n444$/,
        );

        // Progressive disclosure: name, description and the folder, not the instructions.
        const system = provider.requests[0].body.system;
        const text = typeof system === 'string' ? system : system.map((b) => b.text).join('\n');
        assert.ok(text.includes(`name: ${name}`), text);
        assert.ok(text.includes(`description: ${description}`), text);
        assert.ok(text.includes(`folder: ${dir}/`), text);
        assert.ok(!text.includes('Run scripts/hello.sh.'), 'SKILL.md is read from the VM, not sent in the prompt');
    });
});
