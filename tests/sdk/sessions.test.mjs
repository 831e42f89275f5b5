// client.beta.sessions.* (sessions, resources, events) against vivariumd.
// There is no agent runtime yet: a user.message is recorded and echoed, nothing answers it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startScriptedProvider } from '../provider/scripted-provider.mjs';
import {
    BadRequestError,
    NotFoundError,
    catchError,
    collect,
    isTimestamp,
    readStreamUntil,
    recordSecret,
    sleep,
    toFile,
    uniq,
    useServer,
    userMessage,
} from './helpers.mjs';


let env;
let agent; // at version 2 after before()
let agentV1;
let other; // a second agent, for list filters

// stats.duration_seconds grows while a session exists: compare sessions without it.
function stable(session) {
    const { stats, ...rest } = session;
    assert.equal(typeof stats, 'object', 'session.stats is an object');
    return rest;
}

// The runtime answers every user.message: a scripted model provider on loopback gives a fixed
// reply (tests/provider), so turns end quickly and deterministically.
const SCRIPTED_REPLY = 'Scripted reply.';
let provider;
const srv = useServer(
    async (srv) => {
        const c = srv.client;
        env = await c.beta.environments.create({ name: uniq('sess-env-'), config: { type: 'cloud' } });
        agentV1 = await c.beta.agents.create({ name: uniq('sess-agent-'), model: 'claude-sonnet-4-6' });
        agent = await c.beta.agents.update(agentV1.id, { version: 1, name: `${agentV1.name}-v2` });
        other = await c.beta.agents.create({ name: uniq('other-agent-'), model: 'claude-haiku-4-5' });
    },
    async () => {
        provider = await startScriptedProvider();
        provider.setDefault({ text: SCRIPTED_REPLY });
        return { env: { ANTHROPIC_BASE_URL: provider.url, ANTHROPIC_API_KEY: 'sk-scripted-sessions' } };
    },
);
after(async () => provider?.close());

describe('sessions', () => {
    let session;

    test('create with an agent id string (latest version)', async () => {
        session = await srv.client.beta.sessions.create({
            agent: agent.id,
            environment_id: env.id,
            title: 'first session',
            metadata: { ticket: 'T-1' },
        });
        assert.match(session.id, /^sesn_/);
        assert.equal(session.type, 'session');
        assert.equal(session.environment_id, env.id);
        assert.equal(session.status, 'idle');
        assert.equal(session.title, 'first session');
        assert.deepEqual(session.metadata, { ticket: 'T-1' });
        assert.deepEqual(session.vault_ids, []);
        assert.deepEqual(session.resources, []);
        assert.equal(session.archived_at, null);
        assert.ok(isTimestamp(session.created_at));
        assert.ok(isTimestamp(session.updated_at));
        assert.equal(session.agent.type, 'agent');
        assert.equal(session.agent.id, agent.id);
        assert.equal(session.agent.version, 2);
        assert.equal(session.agent.name, agent.name);
        assert.equal(session.agent.model.id, 'claude-sonnet-4-6');
        assert.equal(typeof session.stats, 'object');
        assert.equal(typeof session.usage, 'object');
    });

    test('create with {type: "agent", id, version} pins the version', async () => {
        const s = await srv.client.beta.sessions.create({
            agent: { type: 'agent', id: agent.id, version: 1 },
            environment_id: env.id,
        });
        assert.match(s.id, /^sesn_/);
        assert.equal(s.agent.id, agent.id);
        assert.equal(s.agent.version, 1);
        assert.equal(s.agent.name, agentV1.name);
        assert.equal(s.title, null);
    });

    test('create with an unknown agent or environment → 404/400, nothing created', async () => {
        const before = (await collect(srv.client.beta.sessions.list({ include_archived: true }))).length;
        for (const params of [
            { agent: 'agent_doesnotexist00000000', environment_id: env.id },
            { agent: agent.id, environment_id: 'env_doesnotexist0000000000' },
            { agent: { type: 'agent', id: agent.id, version: 42 }, environment_id: env.id },
        ]) {
            const err = await catchError(() => srv.client.beta.sessions.create(params));
            assert.ok([400, 404].includes(err.status), `status ${err.status}: ${err.message}`);
        }
        const after = (await collect(srv.client.beta.sessions.list({ include_archived: true }))).length;
        assert.equal(after, before);
    });

    test('retrieve returns what create returned', async () => {
        assert.deepEqual(stable(await srv.client.beta.sessions.retrieve(session.id)), stable(session));
    });

    test('update title and metadata', async () => {
        const u = await srv.client.beta.sessions.update(session.id, {
            title: 'renamed',
            metadata: { ticket: null, priority: 'high' },
        });
        assert.equal(u.id, session.id);
        assert.equal(u.title, 'renamed');
        assert.deepEqual(u.metadata, { priority: 'high' });
        assert.equal(u.agent.version, 2);
        assert.equal(u.created_at, session.created_at);
        assert.deepEqual(stable(await srv.client.beta.sessions.retrieve(session.id)), stable(u));
        session = u;
    });

    test('update vault_ids is rejected (SDK: "Not yet supported; requests setting this field are rejected")', async () => {
        const vault = await srv.client.beta.vaults.create({ display_name: uniq('sess-vault-') });
        const err = await catchError(() => srv.client.beta.sessions.update(session.id, { vault_ids: [vault.id] }));
        assert.equal(err.status, 400, err.message);
        assert.equal(err.type, 'invalid_request_error');
        assert.deepEqual((await srv.client.beta.sessions.retrieve(session.id)).vault_ids, []);
    });

    test('list filtered by agent_id, with next and prev pages', async () => {
        const mine = [];
        for (let i = 0; i < 5; ++i)
            mine.push(await srv.client.beta.sessions.create({ agent: other.id, environment_id: env.id, title: `o${i}` }));
        const all = await collect(srv.client.beta.sessions.list({ agent_id: other.id, limit: 2 }));
        assert.deepEqual(all.map((s) => s.id).sort(), mine.map((s) => s.id).sort());
        for (const s of all) assert.equal(s.agent.id, other.id);

        const p1 = await srv.client.beta.sessions.list({ agent_id: other.id, limit: 2 });
        assert.equal(p1.data.length, 2);
        assert.ok(p1.next_page, 'next_page on the first page');
        const p2 = await p1.getNextPage();
        assert.equal(p2.data.length, 2);
        assert.ok(p2.prev_page, 'prev_page on the second page');
        const back = await srv.client.beta.sessions.list({ agent_id: other.id, limit: 2, page: p2.prev_page });
        assert.deepEqual(
            back.data.map((s) => s.id),
            p1.data.map((s) => s.id),
            'prev_page of page 2 is page 1',
        );

        const asc = (await collect(srv.client.beta.sessions.list({ agent_id: other.id, order: 'asc' }))).map((s) => s.id);
        const desc = (await collect(srv.client.beta.sessions.list({ agent_id: other.id, order: 'desc' }))).map((s) => s.id);
        assert.deepEqual(asc, [...desc].reverse(), 'order asc is the reverse of desc');
        assert.deepEqual(asc, mine.map((s) => s.id), 'asc is creation order');
    });

    test('list filtered by statuses', async () => {
        const idle = (await collect(srv.client.beta.sessions.list({ statuses: ['idle'] }))).map((s) => s.id);
        assert.ok(idle.includes(session.id), 'idle session listed under statuses=[idle]');
        const running = (await collect(srv.client.beta.sessions.list({ statuses: ['running', 'terminated'] }))).map(
            (s) => s.id,
        );
        assert.ok(!running.includes(session.id), 'idle session not listed under statuses=[running,terminated]');
        const byAgent = await collect(srv.client.beta.sessions.list({ agent_id: agent.id, statuses: ['idle'] }));
        assert.ok(byAgent.length >= 2);
        for (const s of byAgent) {
            assert.equal(s.agent.id, agent.id);
            assert.equal(s.status, 'idle');
        }
    });

    test('archive hides from list unless include_archived', async () => {
        const s = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        const a = await srv.client.beta.sessions.archive(s.id);
        assert.equal(a.id, s.id);
        assert.ok(isTimestamp(a.archived_at));
        const visible = (await collect(srv.client.beta.sessions.list())).map((x) => x.id);
        assert.ok(!visible.includes(s.id));
        const all = (await collect(srv.client.beta.sessions.list({ include_archived: true }))).map((x) => x.id);
        assert.ok(all.includes(s.id));
    });

    test('delete, then retrieve and events are 404', async () => {
        const s = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
        assert.deepEqual(await srv.client.beta.sessions.delete(s.id), { id: s.id, type: 'session_deleted' });
        for (const call of [
            () => srv.client.beta.sessions.retrieve(s.id),
            () => srv.client.beta.sessions.events.list(s.id),
            () => srv.client.beta.sessions.events.send(s.id, { events: [userMessage('anyone?')] }),
        ]) {
            const err = await catchError(call);
            assert.ok(err instanceof NotFoundError, String(err));
        }
    });
});

describe('session resources', () => {
    let session;
    const repo = {
        type: 'github_repository',
        url: 'https://github.com/example/hello-world',
        mount_path: '/workspace/hello-world',
        checkout: { type: 'branch', name: 'main' },
    };

    before(async () => {
        session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: env.id, resources: [repo] });
    });

    // Repository tokens (authorization_token) are accepted like the official API, kept in the
    // OS keychain only and never returned; every token sent is recorded for the secret scan.
    const tokens = [];
    const seen = []; // JSON of every response that may show a resource
    const newToken = (label) => {
        const t = recordSecret(`ghp_${label}_SECRET_${randomBytes(12).toString('hex')}`);
        tokens.push(t);
        return t;
    };
    const see = (r) => {
        seen.push(JSON.stringify(r));
        return r;
    };
    // The keychain entry of a resource's token (QtKeychain's libsecret schema: base64 of the
    // bytes), null when there is none, undefined when secret-tool is not installed.
    const keychain = (resourceId) => {
        const r = spawnSync(
            'secret-tool',
            ['lookup', 'user', resourceId, 'server', process.env.VIVARIUM_KEYCHAIN_SERVICE || 'vivarium-sdk-test'],
            { encoding: 'utf8' },
        );
        if (r.error) return undefined;
        return r.status === 0 && r.stdout.trim() ? Buffer.from(r.stdout.trim(), 'base64').toString() : null;
    };
    const assertKeychain = (resourceId, expected) => {
        const got = keychain(resourceId);
        if (got !== undefined) assert.equal(got, expected, `keychain entry of ${resourceId}`);
    };
    const resourceKeys = ['checkout', 'created_at', 'id', 'mount_path', 'type', 'updated_at', 'url'];
    let tokened; // a session created with a token
    let privateRepo; // its repository resource
    let createToken;

    test('create with a github_repository authorization_token: accepted, never returned', async () => {
        const token = (createToken = newToken('create'));
        tokened = see(
            await srv.client.beta.sessions.create({
                agent: agent.id,
                environment_id: env.id,
                resources: [{ ...repo, url: 'https://github.com/example/private', mount_path: '/workspace/private', authorization_token: token }],
            }),
        );
        privateRepo = tokened.resources[0];
        assert.equal(privateRepo.type, 'github_repository');
        assert.equal(privateRepo.url, 'https://github.com/example/private');
        assert.deepEqual(Object.keys(privateRepo).sort(), resourceKeys);
        assertKeychain(privateRepo.id, token);
        // A token that cannot be an HTTP header value is refused without being echoed.
        const bad = `${newToken('bad')} x`;
        const err = await catchError(() =>
            srv.client.beta.sessions.create({
                agent: agent.id,
                environment_id: env.id,
                resources: [{ ...repo, authorization_token: bad }],
            }),
        );
        assert.equal(err.status, 400, err.message);
        assert.equal(err.type, 'invalid_request_error');
        assert.ok(!JSON.stringify(err.error).includes(bad), 'token not echoed in the error');
    });

    test('resources.add with an authorization_token', async () => {
        const token = newToken('add');
        const added = see(
            await srv.client.beta.sessions.resources.add(tokened.id, {
                type: 'github_repository',
                url: 'https://github.com/example/second.git',
                authorization_token: token,
            }),
        );
        assert.equal(added.type, 'github_repository');
        assert.equal(added.mount_path, '/workspace/second');
        assert.deepEqual(Object.keys(added).sort(), resourceKeys);
        assertKeychain(added.id, token);
        // Deleting the resource removes its keychain entry.
        see(await srv.client.beta.sessions.resources.delete(added.id, { session_id: tokened.id }));
        assertKeychain(added.id, null);
        assertKeychain(privateRepo.id, createToken);
    });

    test('resources.update rotates the token; reads never show it', async () => {
        const token = newToken('rotated');
        await sleep(5);
        const updated = see(
            await srv.client.beta.sessions.resources.update(privateRepo.id, { session_id: tokened.id, authorization_token: token }),
        );
        assert.equal(updated.id, privateRepo.id);
        assert.equal(updated.url, privateRepo.url);
        assert.ok(updated.updated_at > privateRepo.updated_at, 'updated_at moves');
        assert.deepEqual(Object.keys(updated).sort(), resourceKeys);
        assertKeychain(privateRepo.id, token);
        assert.deepEqual(see(await srv.client.beta.sessions.resources.retrieve(privateRepo.id, { session_id: tokened.id })), updated);
        assert.deepEqual(see(await collect(srv.client.beta.sessions.resources.list(tokened.id))), [updated]);
        assert.deepEqual(see(await srv.client.beta.sessions.retrieve(tokened.id)).resources, [updated]);
        see(await collect(srv.client.beta.sessions.list({ include_archived: true })));
        const missing = await catchError(() =>
            srv.client.beta.sessions.resources.update('sesrsc_doesnotexist000000', { session_id: tokened.id, authorization_token: token }),
        );
        assert.ok(missing instanceof NotFoundError, String(missing));
    });

    test('deleting the session removes its tokens from the keychain', async () => {
        see(await srv.client.beta.sessions.delete(tokened.id));
        assertKeychain(privateRepo.id, null);
    });

    test('create-time resource shows in the session and in resources.list', async () => {
        assert.equal(session.resources.length, 1);
        const r = session.resources[0];
        assert.equal(r.type, 'github_repository');
        assert.equal(r.url, 'https://github.com/example/hello-world');
        assert.equal(r.mount_path, '/workspace/hello-world');
        assert.ok(r.id, 'resource has an id');
        assert.deepEqual(r.checkout, { type: 'branch', name: 'main' });
        assert.ok(isTimestamp(r.created_at));

        const listed = await collect(srv.client.beta.sessions.resources.list(session.id));
        assert.equal(listed.length, 1);
        assert.deepEqual(listed[0], r);
    });

    test('retrieve', async () => {
        const r = session.resources[0];
        const got = await srv.client.beta.sessions.resources.retrieve(r.id, { session_id: session.id });
        assert.deepEqual(got, r);
    });

    test('update (token rotation) on a repository without a token gives it one', async () => {
        const r = session.resources[0];
        const token = newToken('first');
        const updated = see(await srv.client.beta.sessions.resources.update(r.id, { session_id: session.id, authorization_token: token }));
        assert.deepEqual({ ...updated, updated_at: r.updated_at }, r, 'only updated_at changes');
        assertKeychain(r.id, token);
        session.resources[0] = updated;
    });

    test('add a file resource (uploaded through files)', async () => {
        const file = await srv.client.beta.files.upload({
            file: await toFile(Buffer.from('col_a,col_b\n1,2\n'), 'data.csv', { type: 'text/csv' }),
            betas: ['files-api-2025-04-14'],
        });
        assert.match(file.id, /^file_/);
        const added = await srv.client.beta.sessions.resources.add(session.id, {
            type: 'file',
            file_id: file.id,
            mount_path: '/workspace/data.csv',
        });
        assert.equal(added.type, 'file');
        assert.equal(added.file_id, file.id);
        assert.equal(added.mount_path, '/workspace/data.csv');
        assert.ok(added.id);
        const listed = await collect(srv.client.beta.sessions.resources.list(session.id));
        assert.equal(listed.length, 2);
        assert.ok(listed.some((x) => x.id === added.id));
        assert.deepEqual(
            await srv.client.beta.sessions.resources.retrieve(added.id, { session_id: session.id }),
            added,
        );
    });

    test('update on a file resource → 400 (only github_repository resources take a token)', async () => {
        const files = (await collect(srv.client.beta.sessions.resources.list(session.id))).filter((x) => x.type === 'file');
        assert.equal(files.length, 1);
        const token = newToken('file');
        const err = await catchError(() =>
            srv.client.beta.sessions.resources.update(files[0].id, { session_id: session.id, authorization_token: token }),
        );
        assert.ok(err instanceof BadRequestError, String(err));
        assert.ok(!JSON.stringify(err.error).includes(token), 'token not echoed in the error');
        assertKeychain(files[0].id, null);
    });

    test('add with an unknown file → 4xx and nothing added', async () => {
        const before = (await collect(srv.client.beta.sessions.resources.list(session.id))).length;
        const err = await catchError(() =>
            srv.client.beta.sessions.resources.add(session.id, { type: 'file', file_id: 'file_doesnotexist0000000' }),
        );
        assert.ok([400, 404].includes(err.status), `status ${err.status}: ${err.message}`);
        assert.equal((await collect(srv.client.beta.sessions.resources.list(session.id))).length, before);
    });

    test('delete', async () => {
        const r = session.resources[0];
        const d = await srv.client.beta.sessions.resources.delete(r.id, { session_id: session.id });
        assert.deepEqual(d, { id: r.id, type: 'session_resource_deleted' });
        const ids = (await collect(srv.client.beta.sessions.resources.list(session.id))).map((x) => x.id);
        assert.ok(!ids.includes(r.id));
        const err = await catchError(() => srv.client.beta.sessions.resources.retrieve(r.id, { session_id: session.id }));
        assert.ok(err instanceof NotFoundError, String(err));
        assert.ok(
            !(await srv.client.beta.sessions.retrieve(session.id)).resources.some((x) => x.id === r.id),
            'gone from the session object too',
        );
        assertKeychain(r.id, null);
    });

    test('no token in any response, the server log or its data directory', async () => {
        assert.ok(tokens.length >= 5 && seen.length >= 8);
        for (const body of seen) {
            for (const t of tokens) assert.ok(!body.includes(t), `a token in ${body.slice(0, 120)}`);
            assert.ok(!body.includes('authorization_token') && !body.includes('"_token"'), body.slice(0, 120));
        }
        for (const t of tokens) assert.ok(!srv.log().includes(t), 'a token in the vivariumd log');
        const files = (await readdir(srv.dataDir, { recursive: true, withFileTypes: true }))
            .filter((d) => d.isFile())
            .map((d) => path.join(d.parentPath ?? d.path, d.name));
        assert.ok(files.length > 0, 'data dir has files');
        for (const f of files) {
            const bytes = (await readFile(f)).toString('latin1');
            for (const t of tokens) assert.ok(!bytes.includes(t), `a token in ${f}`);
        }
    });
});

describe('session events', () => {
    let session;
    let sent;
    const text = `Summarise data.csv please ${uniq()}`;

    before(async () => {
        session = await srv.client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
    });

    test('send a user.message: echoed with an id', async () => {
        const res = await srv.client.beta.sessions.events.send(session.id, { events: [userMessage(text)] });
        assert.ok(Array.isArray(res.data), 'response has data[]');
        assert.equal(res.data.length, 1);
        sent = res.data[0];
        assert.match(sent.id, /^sevt_/);
        assert.equal(sent.type, 'user.message');
        assert.deepEqual(sent.content, [{ type: 'text', text }]);
    });

    test('events list contains it once; the runtime answers it (scripted model) and the session returns to idle', async () => {
        let events = [];
        for (let i = 0; i < 200 && !events.some((e) => e.type === 'session.status_idle'); ++i) {
            await sleep(25);
            events = await collect(srv.client.beta.sessions.events.list(session.id));
        }
        const mine = events.filter((e) => e.id === sent.id);
        assert.equal(mine.length, 1, 'the user.message is listed exactly once');
        assert.equal(mine[0].type, 'user.message');
        assert.deepEqual(mine[0].content, [{ type: 'text', text }]);
        const agentEvents = events.filter((e) => e.type.startsWith('agent.'));
        assert.deepEqual(
            agentEvents.map((e) => [e.type, e.content]),
            [['agent.message', [{ type: 'text', text: SCRIPTED_REPLY }]]],
            'exactly the scripted model reply, nothing invented',
        );
        const s = await srv.client.beta.sessions.retrieve(session.id);
        assert.equal(s.status, 'idle');
    });

    test('events list: order, limit, types filter', async () => {
        const more = await srv.client.beta.sessions.events.send(session.id, {
            events: [userMessage('second'), userMessage('third')],
        });
        assert.equal(more.data.length, 2);
        const ids = [sent.id, ...more.data.map((e) => e.id)];
        assert.equal(new Set(ids).size, 3, 'distinct event ids');

        const asc = (await collect(srv.client.beta.sessions.events.list(session.id, { order: 'asc' })))
            .filter((e) => e.type === 'user.message')
            .map((e) => e.id);
        assert.deepEqual(asc, ids, 'asc is send order');
        const desc = (await collect(srv.client.beta.sessions.events.list(session.id, { order: 'desc' })))
            .filter((e) => e.type === 'user.message')
            .map((e) => e.id);
        assert.deepEqual(desc, [...ids].reverse());

        const typed = await collect(srv.client.beta.sessions.events.list(session.id, { types: ['user.message'] }));
        assert.deepEqual(
            typed.map((e) => e.id),
            asc,
        );
        const replies = await collect(srv.client.beta.sessions.events.list(session.id, { types: ['agent.message'] }));
        assert.ok(replies.length >= 1, 'the runtime answered');
        assert.ok(replies.every((e) => e.type === 'agent.message'), 'types[] filters to agent.message only');

        const page = await srv.client.beta.sessions.events.list(session.id, { types: ['user.message'], limit: 2 });
        assert.equal(page.data.length, 2);
        assert.ok(page.hasNextPage());
    });

    test('bad events → 400 and nothing recorded', async () => {
        const before = (await collect(srv.client.beta.sessions.events.list(session.id))).length;
        for (const events of [[], [{ type: 'user.message' }], [{ type: 'agent.message', content: [] }]]) {
            const err = await catchError(() => srv.client.beta.sessions.events.send(session.id, { events }));
            assert.equal(err.status, 400, err.message);
            assert.equal(err.type, 'invalid_request_error');
        }
        assert.equal((await collect(srv.client.beta.sessions.events.list(session.id))).length, before);
    });

    test('events stream delivers a message sent after it opens', async () => {
        const stream = await srv.client.beta.sessions.events.stream(session.id);
        const streamText = `streamed ${uniq()}`;
        const res = await srv.client.beta.sessions.events.send(session.id, { events: [userMessage(streamText)] });
        const seen = await readStreamUntil(stream, (e) => e.type === 'user.message' && e.id === res.data[0].id, 10_000);
        const hit = seen.find((e) => e.id === res.data[0].id);
        assert.ok(hit, `user.message not received on the stream within 10 s; got ${JSON.stringify(seen)}`);
        assert.equal(hit.type, 'user.message');
        assert.deepEqual(hit.content, [{ type: 'text', text: streamText }]);
        const agentEvents = seen.filter((e) => e.type?.startsWith('agent.'));
        assert.ok(
            agentEvents.every((e) => e.type === 'agent.message' && e.content[0].text === SCRIPTED_REPLY),
            `only scripted model replies on the stream: ${JSON.stringify(agentEvents)}`,
        );
    });
});
