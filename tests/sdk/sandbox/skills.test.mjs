// A custom skill in a real session VM through the official SDK: its files are under
// /mnt/skills/<name>/ (byte-identical, read-only even for root), and the model is pointed at
// them in the system prompt (name, description, folder) rather than given their text.
// Runs under ctest as `sdk_sandbox_skills` (label sandbox) with the sandbox test environment.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { toFile, uniq, userMessage } from '../helpers.mjs';
import { newSession, PREWARM, systemPrompt, useSandboxServer, waitIdles } from './sandbox-helpers.mjs';

const srv = useSandboxServer({ environment: 'skills-vm', env: PREWARM });

describe('skills in the session VM', () => {
    test('the files are readable under /mnt/skills/<name>/, read-only, and the prompt names the folder', async () => {
        const name = `vm-skill-${uniq()}`.toLowerCase();
        const description = `Says hello from inside the VM (${uniq()}).`;
        const md = `---\nname: ${name}\ndescription: ${description}\n---\n\nRun scripts/hello.sh.\n`;
        const script = '#!/bin/sh\necho "hello from the skill script"\n';
        const skill = await srv.client.beta.skills.create({
            files: [await toFile(Buffer.from(md), `${name}/SKILL.md`), await toFile(Buffer.from(script), `${name}/scripts/hello.sh`)],
        });
        const session = await newSession(srv, 'skills-vm', { agent: { skills: [{ type: 'custom', skill_id: skill.id }] } });

        const dir = `/mnt/skills/${name}`;
        srv.provider.reset();
        srv.provider.enqueue(
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
        const events = await waitIdles(srv, session.id, 1, 300_000);
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
        const text = systemPrompt(srv.provider.requests[0]);
        assert.ok(text.includes(`name: ${name}`), text);
        assert.ok(text.includes(`description: ${description}`), text);
        assert.ok(text.includes(`folder: ${dir}/`), text);
        assert.ok(!text.includes('Run scripts/hello.sh.'), 'SKILL.md is read from the VM, not sent in the prompt');
    });
});
