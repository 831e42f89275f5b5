// Shared harness for the SDK conformance suite: starts a private vivariumd on loopback and
// hands back an official Anthropic SDK client pointed at it.
//
//   VIVARIUMD              path of the vivariumd binary (default <repo>/build/bin/vivariumd; ctest sets it)
//   VIVARIUM_SDK_PACKAGE   which pinned SDK generation drives the server (package.json):
//                          `@anthropic-ai/sdk` (the current pin, default), `sdk-0-86` (0.86.1)
//                          or `sdk-1-17` (1.17.0), npm aliases of the official package
//
// Every test file calls useServer() once; the server is started in before() and killed in
// after(). Each server gets a fresh temporary data directory and a random API key.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { appendFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startScriptedProvider } from '../provider/scripted-provider.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

// Debian 12's Node is 18, where `File` is not yet a global; the SDK's file uploads need it and
// its own error message names this as the fix. Node 20 and later have it already.
if (typeof globalThis.File === 'undefined') {
    globalThis.File = (await import('node:buffer')).File;
}

// Fail loudly (never skip) when `npm ci` has not been run in tests/sdk.
const SDK_PACKAGES = ['@anthropic-ai/sdk', 'sdk-0-86', 'sdk-1-17'];
export const SDK_PACKAGE = process.env.VIVARIUM_SDK_PACKAGE || '@anthropic-ai/sdk';
if (!SDK_PACKAGES.includes(SDK_PACKAGE))
    throw new Error(`VIVARIUM_SDK_PACKAGE=${SDK_PACKAGE}: expected one of ${SDK_PACKAGES.join(', ')}`);
let sdk;
try {
    sdk = await import(SDK_PACKAGE);
} catch (e) {
    throw new Error(
        `The official Anthropic SDK (${SDK_PACKAGE}) is not installed in ${here}/node_modules ` +
            `(${e.code ?? e.message}). Run \`npm ci\` in ${here} (installer/setup.sh does this).`,
    );
}
/** The version of the SDK generation under test (e.g. '0.86.1'). */
export const SDK_VERSION = JSON.parse(readFileSync(path.join(here, 'node_modules', SDK_PACKAGE, 'package.json'), 'utf8')).version;

export const Anthropic = sdk.default;
export const {
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    UnprocessableEntityError,
    toFile,
} = sdk;

export const BETA_HEADER = 'managed-agents-2026-04-01';
export const DEFAULT_VIVARIUMD = path.resolve(here, '../../build/bin/vivariumd');
const START_TIMEOUT_MS = 30_000;

function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

async function startOnce(binary, port, dataDir, apiKey, extraEnv = {}) {
    const child = spawn(binary, ['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
        env: {
            ...process.env,
            VIVARIUM_API_KEY: apiKey,
            VIVARIUM_KEYCHAIN_SERVICE: 'vivarium-sdk-test',
            // Keep the server away from any real model vendor.
            ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
            ANTHROPIC_API_KEY: '',
            OPENAI_BASE_URL: 'http://127.0.0.1:9',
            OPENAI_API_KEY: '',
            ...extraEnv,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const baseURL = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`vivariumd did not print "listening on" within ${START_TIMEOUT_MS} ms:\n${output}`));
        }, START_TIMEOUT_MS);
        const onData = (chunk) => {
            output += chunk.toString();
            const m = output.match(/listening on (http:\/\/\S+)/);
            if (m) {
                clearTimeout(timer);
                resolve(m[1].replace(/\/+$/, ''));
            }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('error', (e) => {
            clearTimeout(timer);
            reject(e);
        });
        exited.then(({ code, signal }) => {
            clearTimeout(timer);
            reject(new Error(`vivariumd exited (code ${code}, signal ${signal}) before listening:\n${output}`));
        });
    });
    // Keep draining the pipes so the server never blocks on a full pipe; keep the log for
    // diagnostics (useful when a test wants to prove a secret never reaches the log).
    return { child, baseURL, exited, log: () => output };
}

// Under ctest the suite keeps every data dir and server log in VIVARIUM_TEST_ARTIFACTS and
// lists every secret it sends in VIVARIUM_TEST_SECRETS; the final `secret_scan` test then
// byte-searches all of them (tests/scan-secrets.sh). Outside ctest both are unset and data
// dirs are temporary.
const ARTIFACTS = process.env.VIVARIUM_TEST_ARTIFACTS;

/** Records a secret value this suite sends, for the end-of-suite byte search. */
export function recordSecret(value) {
    if (process.env.VIVARIUM_TEST_SECRETS) appendFileSync(process.env.VIVARIUM_TEST_SECRETS, `${value}\n`);
    return value;
}

/**
 * Starts vivariumd. Returns {client, baseURL, apiKey, dataDir, pid, stop(), kill9(), restart(), log(), makeClient()}.
 * Options: `env` (extra environment, e.g. ANTHROPIC_BASE_URL of a scripted provider),
 * `dataDir` + `apiKey` (restart on an existing data directory; kill9() leaves it in place).
 */
export async function startServer(options = {}) {
    const binary = process.env.VIVARIUMD || DEFAULT_VIVARIUMD;
    if (!existsSync(binary))
        throw new Error(`vivariumd not found at ${binary} (set VIVARIUMD to the built binary)`);
    const dataDir = options.dataDir ?? (await mkdtemp(path.join(ARTIFACTS || tmpdir(), 'vivarium-sdk-')));
    const apiKey = options.apiKey ?? `viv-test-${randomBytes(16).toString('hex')}`;

    let started;
    let lastError;
    for (let attempt = 0; attempt < 5 && !started; ++attempt) {
        const port = await freePort();
        try {
            started = await startOnce(binary, port, dataDir, apiKey, options.env);
        } catch (e) {
            lastError = e; // most likely the port was taken between probe and bind: retry
        }
    }
    if (!started) {
        await rm(dataDir, { recursive: true, force: true });
        throw lastError;
    }
    const { child, baseURL, exited, log } = started;

    const makeClient = (opts = {}) =>
        new Anthropic({
            baseURL,
            apiKey,
            authToken: null, // never pick up ANTHROPIC_AUTH_TOKEN from the environment
            maxRetries: 0, // a retry would hide a wrong status and could duplicate a create
            timeout: 30_000,
            ...opts,
        });

    let stopped = false;
    /**
     * SIGTERM, SIGKILL after `graceMs` (default 30 s: a server with VMs destroys them on the
     * way out, ~2-3 s on a loaded machine; a SIGKILL would leave them running with their
     * data directory gone). `keepDataDir`: leave the data directory for a restart. Resolves to
     * how the process ended ({code, signal}).
     */
    async function stop({ keepDataDir = false, graceMs = 30_000 } = {}) {
        if (stopped) return exited;
        stopped = true;
        if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
            await exited;
            clearTimeout(timer);
        }
        if (keepDataDir) {
            if (ARTIFACTS) await writeFile(`${dataDir}.${Date.now()}.log`, log());
        } else if (ARTIFACTS) await writeFile(`${dataDir}.log`, log());
        else await rm(dataDir, { recursive: true, force: true });
        return exited;
    }

    /** SIGKILL (kill -9): the data directory stays for a restart with the same dataDir/apiKey. */
    async function kill9() {
        stopped = true;
        if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGKILL');
            await exited;
        }
        if (ARTIFACTS) await writeFile(`${dataDir}.${Date.now()}.log`, log());
    }

    /**
     * Ends this server (graceful stop with `graceMs` as for stop(), or SIGKILL with
     * `kill9: true`; nothing when it already ended) and starts a new one on the same data
     * directory and API key; `env` replaces the extra environment (default: the same).
     * Returns the new server's startServer() result.
     */
    async function restart({ kill9: hard = false, env, graceMs } = {}) {
        if (child.exitCode === null && child.signalCode === null) {
            if (hard) await kill9();
            else await stop({ keepDataDir: true, graceMs });
        }
        return startServer({ ...options, dataDir, apiKey, env: env ?? options.env });
    }

    return { client: makeClient(), baseURL, apiKey, dataDir, stop, kill9, restart, log, makeClient, pid: child.pid };
}

/**
 * Restarts the server behind `ctx` (useServer()'s object or a startServer() result) in place:
 * see startServer()'s restart(). Afterwards ctx.client, ctx.baseURL, ctx.stop, … are the new
 * server's, so useServer()'s after() hook stops the new one.
 */
export async function restartServer(ctx, options) {
    return Object.assign(ctx, await ctx.restart(options));
}

/**
 * Registers before()/after() hooks in the calling test file and returns an object that is
 * filled with startServer()'s result once before() has run. File-level setup that needs the
 * server goes in `setup(ctx)`: Node 20 runs several root-level before() hooks of one file
 * concurrently, so a second root before() could not rely on the server being up.
 */
export function useServer(setup, options) {
    const ctx = {};
    before(async () => {
        Object.assign(ctx, await startServer(typeof options === 'function' ? await options() : options));
        if (setup) await setup(ctx);
    });
    after(async () => {
        await ctx.stop?.();
    });
    return ctx;
}

/** Collects every item of an SDK auto-paginating list (`for await`). */
export async function collect(pagePromise) {
    const out = [];
    for await (const item of pagePromise) out.push(item);
    return out;
}

/** Runs fn and returns the error it throws; fails when it does not throw. */
export async function catchError(fn) {
    try {
        await fn();
    } catch (e) {
        return e;
    }
    throw new Error('expected the call to throw, it succeeded');
}

/** A unique suffix for names in one test run. */
export function uniq(prefix = '') {
    return `${prefix}${randomBytes(4).toString('hex')}`;
}

/** A user.message event param. */
export function userMessage(text) {
    return { type: 'user.message', content: [{ type: 'text', text }] };
}

/** ISO-8601 timestamp check (what the API returns for created_at/updated_at). */
export function isTimestamp(s) {
    return typeof s === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(s) && !Number.isNaN(Date.parse(s));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Reads SDK stream items until predicate(item) is true or timeoutMs passes; returns the items
 * seen (the matching one last). Aborts the stream on timeout.
 */
export async function readStreamUntil(stream, predicate, timeoutMs = 10_000) {
    const seen = [];
    const timer = setTimeout(() => stream.controller.abort(), timeoutMs);
    try {
        for await (const ev of stream) {
            seen.push(ev);
            if (predicate(ev)) break;
        }
    } finally {
        clearTimeout(timer);
    }
    return seen;
}

/**
 * useServer() behind the scripted model provider (tests/provider/scripted-provider.mjs), the
 * prologue most turn-driving test files share. In before(): the provider starts on 127.0.0.1
 * (ctx.provider), the server starts with the extra environment `env(provider)` (an object, or a
 * promise of one), an environment named `<environment>-<uniq>` is created (ctx.environment;
 * none with `environment: null`), then `setup(ctx)` runs. In after(): the server stops, then the provider (ctx.provider, so a
 * test that swaps it restores it first) closes.
 */
export function useScriptedServer({ environment = 'env', env = () => ({}), setup } = {}) {
    const ctx = useServer(
        async (c) => {
            if (environment !== null) c.environment = await c.client.beta.environments.create({ name: `${environment}-${uniq()}` });
            if (setup) await setup(c);
        },
        async () => {
            // Node may start a root before() hook at once, inside useServer(): `ctx` is only
            // reachable after the first await.
            const provider = await startScriptedProvider();
            ctx.provider = provider;
            return { env: await env(provider) };
        },
    );
    after(async () => ctx.provider?.close());
    return ctx;
}

// ---- the session's event log -----------------------------------------------------------------

export const ofType = (events, type) => events.filter((e) => e.type === type);
export const idles = (events) => ofType(events, 'session.status_idle');
export const idleCount = (events) => idles(events).length;
export const lastIdle = (events) => idles(events).at(-1);
/** The event types in order, for failure messages. */
const eventLabel = (e) => `${e.type}${e.session_thread_id ? `@${e.session_thread_id}` : ''}`;
export const types = (events) => events.map((e) => e.type).join(', ');

/**
 * Polls the session's event log (every `intervalMs`, default 25 ms) until pred(events) holds
 * and returns those events; after timeoutMs throws, naming the events seen (each as `label`
 * writes it: by default its type, with `@<thread id>` for a thread's event).
 */
export async function waitEvents(client, sessionId, pred, timeoutMs = 15_000, { label = eventLabel, intervalMs = 25 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let events = [];
    while (Date.now() < deadline) {
        events = await collect(client.beta.sessions.events.list(sessionId));
        if (pred(events)) return events;
        await sleep(intervalMs);
    }
    throw new Error(`timed out; events: ${events.map(label).join(', ')}`);
}

/** Polls `pred()` (every 200 ms) until it returns something truthy, and returns that. */
export async function waitFor(what, pred, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await pred();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(200);
    }
}
