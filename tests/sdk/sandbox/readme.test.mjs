// The README's first SDK example, run as written (only baseURL and the key differ) against
// vivariumd on its DEFAULT sandbox settings: no VIVARIUM_SANDBOX_ACCEL, so `auto` must find out
// on its own whether KVM runs a guest here (on our CI machines /dev/kvm exists but does not).
// The model vendor is the scripted provider: it asks for `bash` with `uname -r`, and the
// example's stream loop must print the tool result from the VM and end at an idle.
// Runs under ctest as `sdk_sandbox_readme` (label sandbox).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { uniq } from '../helpers.mjs';
import { sandboxApi, useSandboxServer } from './sandbox-helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const srv = useSandboxServer({
    environment: null,
    env: () => {
        assert.equal(process.env.VIVARIUM_SANDBOX_ACCEL, undefined, 'this test is about the default acceleration');
        return {};
    },
});

function firstTypeScriptExample() {
    const readme = readFileSync(join(here, '../../../README.md'), 'utf8');
    const m = readme.match(/## Using it from scripts \(official SDK\)\s+```ts\n([\s\S]*?)```/);
    assert.ok(m, 'README has a ```ts example under "Using it from scripts"');
    return m[1];
}

test('the README example runs bash in a VM on the default settings', async () => {
    let script = firstTypeScriptExample();
    assert.ok(script.includes("baseURL: 'http://127.0.0.1:8421'"), 'the example names the default base URL');
    script = script.replace("baseURL: 'http://127.0.0.1:8421'", `baseURL: ${JSON.stringify(srv.baseURL)}`);
    srv.provider.enqueue({ tool_calls: [{ name: 'bash', input: { command: 'uname -r' } }] });
    srv.provider.enqueue({ text: 'Your sandbox runs the kernel shown above.' });
    // Beside package.json, so that `@anthropic-ai/sdk` resolves as it does in a user's project.
    const file = join(here, '..', `readme-example-${uniq()}.mjs`);
    writeFileSync(file, script);
    let out;
    try {
        const run = await promisify(execFile)(process.execPath, [file], {
            env: { ...process.env, VIVARIUM_API_KEY: srv.apiKey },
            timeout: 12 * 60 * 1000,
        });
        out = run.stdout;
    } finally {
        rmSync(file, { force: true });
    }
    console.log(out);
    const lines = out.trim().split('\n');
    const result = lines.find((l) => l.startsWith('agent.tool_result '));
    assert.ok(result, `a tool result was printed:\n${out}`);
    assert.match(result, /\d+\.\d+\.\d+/, 'the guest kernel version came back from bash in the VM');
    assert.equal(lines.at(-1).trim(), 'session.status_idle');
    // What decided the acceleration is in the server's log, with its reason.
    assert.match(srv.log(), /sandbox acceleration: auto: /);
    const sandboxes = (await sandboxApi(srv, 'GET', '/v1/sandboxes')).json;
    // The session's VM says what it runs under: decided, never left "deciding".
    assert.equal(sandboxes.data.length, 1, JSON.stringify(sandboxes));
    assert.ok(['kvm', 'tcg'].includes(sandboxes.data[0].accelerator), JSON.stringify(sandboxes.data[0]));
});
