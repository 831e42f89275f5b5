// The real MCP servers the SDK tests start on loopback: @modelcontextprotocol/server-everything
// from npm (tests/mcp, `npm ci` there), in its `streamableHttp` or `sse` mode on 127.0.0.1.
// Used by mcp.test.mjs and sandbox/mcp.test.mjs.

import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const MCP_DIR = path.resolve(here, '../mcp');

export function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

/** Starts server-everything (`streamableHttp` or `sse` mode) on 127.0.0.1; {url, port, kill(), exited}. */
export async function startEverything(mode = 'streamableHttp', fixedPort = 0) {
    const port = fixedPort || (await freePort());
    const child = spawn(process.execPath, [path.join(MCP_DIR, 'serve-loopback.mjs'), mode], {
        cwd: MCP_DIR,
        env: { ...process.env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server-everything did not start:\n${output}`)), 20_000);
        const onData = (chunk) => {
            output += chunk.toString();
            if (/(listening|running) on port/i.test(output)) {
                clearTimeout(timer);
                resolve();
            }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        exited.then(() => reject(new Error(`server-everything exited:\n${output}`)));
    });
    return {
        port,
        url: `http://127.0.0.1:${port}/mcp`,
        exited,
        kill: () => {
            child.kill('SIGKILL');
            return exited;
        },
    };
}
