// client.beta.agents.* (and agents.versions) against vivariumd.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { APIError, ConflictError, catchError, collect, isTimestamp, uniq, useServer } from './helpers.mjs';

const srv = useServer();

describe('agents', () => {
    let agent; // created with a model string; updated to version 2 below
    let v1;

    test('create with a model string', async () => {
        const name = uniq('coder-');
        agent = await srv.client.beta.agents.create({
            name,
            model: 'claude-sonnet-4-6',
            system: 'You are a careful coding assistant.',
            description: 'writes code',
            metadata: { owner: 'sdk-suite' },
            tools: [{ type: 'agent_toolset_20260401' }],
        });
        v1 = agent;
        assert.match(agent.id, /^agent_/);
        assert.equal(agent.type, 'agent');
        assert.equal(agent.name, name);
        assert.equal(agent.version, 1);
        assert.equal(agent.system, 'You are a careful coding assistant.');
        assert.equal(agent.description, 'writes code');
        assert.deepEqual(agent.metadata, { owner: 'sdk-suite' });
        assert.equal(agent.archived_at, null);
        assert.ok(isTimestamp(agent.created_at), `created_at: ${agent.created_at}`);
        assert.ok(isTimestamp(agent.updated_at), `updated_at: ${agent.updated_at}`);
        // A model string comes back as a model config object.
        assert.equal(typeof agent.model, 'object');
        assert.equal(agent.model.id, 'claude-sonnet-4-6');
        assert.equal(agent.tools.length, 1);
        assert.equal(agent.tools[0].type, 'agent_toolset_20260401');
        assert.ok(Array.isArray(agent.tools[0].configs), 'toolset configs is an array');
        assert.equal(typeof agent.tools[0].default_config, 'object');
        assert.equal(typeof agent.tools[0].default_config.enabled, 'boolean');
        assert.equal(typeof agent.tools[0].default_config.permission_policy?.type, 'string');
        assert.deepEqual(agent.mcp_servers, []);
        assert.deepEqual(agent.skills, []);
    });

    test('create with a model config object', async () => {
        const a = await srv.client.beta.agents.create({
            name: uniq('fast-'),
            model: { id: 'claude-opus-4-6', speed: 'fast' },
        });
        assert.match(a.id, /^agent_/);
        assert.notEqual(a.id, agent.id);
        assert.equal(a.version, 1);
        assert.equal(a.model.id, 'claude-opus-4-6');
        assert.equal(a.model.speed, 'fast');
        assert.equal(a.system, null);
        assert.equal(a.description, null);
        assert.deepEqual(a.metadata, {});
        assert.deepEqual(a.tools, []);
    });

    test('retrieve returns what create returned', async () => {
        assert.deepEqual(await srv.client.beta.agents.retrieve(agent.id), agent);
    });

    test('update with the current version creates version 2', async () => {
        const updated = await srv.client.beta.agents.update(agent.id, {
            version: 1,
            name: `${agent.name}-v2`,
            system: 'You are a very careful coding assistant.',
            metadata: { owner: null, stage: 'beta' },
        });
        assert.equal(updated.id, agent.id);
        assert.equal(updated.version, 2);
        assert.equal(updated.name, `${agent.name}-v2`);
        assert.equal(updated.system, 'You are a very careful coding assistant.');
        assert.deepEqual(updated.metadata, { stage: 'beta' });
        // Omitted fields are preserved.
        assert.equal(updated.description, 'writes code');
        assert.deepEqual(updated.model, agent.model);
        assert.deepEqual(updated.tools, agent.tools);
        assert.equal(updated.created_at, agent.created_at);
        agent = updated;
        assert.deepEqual(await srv.client.beta.agents.retrieve(agent.id), updated);
    });

    test('retrieve {version} returns the immutable old version', async () => {
        const old = await srv.client.beta.agents.retrieve(agent.id, { version: 1 });
        assert.equal(old.id, agent.id);
        assert.equal(old.version, 1);
        assert.equal(old.name, v1.name);
        assert.equal(old.system, v1.system);
        assert.deepEqual(old.metadata, v1.metadata);
        const cur = await srv.client.beta.agents.retrieve(agent.id, { version: 2 });
        assert.equal(cur.version, 2);
        assert.equal(cur.name, agent.name);
    });

    test('retrieve of a version that does not exist → 404', async () => {
        const err = await catchError(() => srv.client.beta.agents.retrieve(agent.id, { version: 99 }));
        assert.ok(err instanceof APIError, String(err));
        assert.equal(err.status, 404);
    });

    test('update with a stale version → 409 and changes nothing', async () => {
        const err = await catchError(() =>
            srv.client.beta.agents.update(agent.id, { version: 1, name: 'should-not-stick' }),
        );
        assert.ok(err instanceof APIError, String(err));
        assert.ok(err instanceof ConflictError, `expected ConflictError, got ${err}`);
        assert.equal(err.status, 409);
        assert.equal(err.type, 'invalid_request_error');
        assert.ok(err.requestID, 'request id on the 409');
        const cur = await srv.client.beta.agents.retrieve(agent.id);
        assert.equal(cur.version, 2);
        assert.equal(cur.name, agent.name);
    });

    test('update without version applies unconditionally', async () => {
        const a = await srv.client.beta.agents.create({ name: uniq('free-'), model: 'claude-haiku-4-5' });
        const u = await srv.client.beta.agents.update(a.id, { description: 'no version given' });
        assert.equal(u.version, 2);
        assert.equal(u.description, 'no version given');
    });

    test('versions.list lists every version', async () => {
        const versions = await collect(srv.client.beta.agents.versions.list(agent.id));
        assert.deepEqual(
            versions.map((v) => v.version).sort((a, b) => a - b),
            [1, 2],
        );
        for (const v of versions) {
            assert.equal(v.id, agent.id);
            assert.equal(v.type, 'agent');
        }
        const byVersion = Object.fromEntries(versions.map((v) => [v.version, v]));
        assert.equal(byVersion[1].name, v1.name);
        assert.equal(byVersion[2].name, agent.name);

        const paged = await srv.client.beta.agents.versions.list(agent.id, { limit: 1 });
        assert.equal(paged.data.length, 1);
        assert.ok(paged.hasNextPage(), 'limit 1 of 2 versions has a next page');
    });

    test('list, with auto-pagination over more than a page', async () => {
        const made = [];
        for (let i = 0; i < 12; ++i)
            made.push(await srv.client.beta.agents.create({ name: uniq(`bulk-${i}-`), model: 'claude-haiku-4-5' }));

        const first = await srv.client.beta.agents.list({ limit: 5 });
        assert.equal(first.data.length, 5);
        assert.ok(first.next_page, 'next_page present');
        const second = await first.getNextPage();
        assert.equal(second.data.length, 5);
        const firstIds = new Set(first.data.map((a) => a.id));
        for (const a of second.data) assert.ok(!firstIds.has(a.id), 'pages do not overlap');

        const all = await collect(srv.client.beta.agents.list({ limit: 5 }));
        const ids = all.map((a) => a.id);
        assert.equal(new Set(ids).size, ids.length, 'no duplicates across pages');
        assert.ok(all.length >= 14, `at least the 14 agents made here, got ${all.length}`);
        for (const a of [agent, ...made]) assert.ok(ids.includes(a.id), `${a.id} listed`);
        // The list shows the latest version of each agent.
        assert.equal(all.find((a) => a.id === agent.id).version, 2);
    });

    test('archive; list hides it unless include_archived', async () => {
        const a = await srv.client.beta.agents.create({ name: uniq('old-'), model: 'claude-haiku-4-5' });
        const archived = await srv.client.beta.agents.archive(a.id);
        assert.equal(archived.id, a.id);
        assert.ok(isTimestamp(archived.archived_at), `archived_at: ${archived.archived_at}`);
        assert.equal((await srv.client.beta.agents.retrieve(a.id)).archived_at, archived.archived_at);

        const visible = (await collect(srv.client.beta.agents.list({ limit: 100 }))).map((x) => x.id);
        assert.ok(!visible.includes(a.id), 'archived agent hidden by default');
        const all = await collect(srv.client.beta.agents.list({ limit: 100, include_archived: true }));
        assert.ok(
            all.some((x) => x.id === a.id && x.archived_at),
            'archived agent listed with include_archived',
        );
        assert.ok(all.some((x) => x.id === agent.id), 'live agents still listed with include_archived');
    });
});
