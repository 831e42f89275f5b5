// client.beta.environments.* against vivariumd.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NotFoundError, catchError, collect, isTimestamp, uniq, useServer } from './helpers.mjs';

const srv = useServer();

// The seed example's environment: cloud config, pip packages, limited networking.
const seedConfig = {
    type: 'cloud',
    packages: { pip: ['pandas', 'numpy'] },
    networking: { type: 'limited', allowed_hosts: ['api.example.com'] },
};

describe('environments', () => {
    let env;

    test('create (cloud config, pip packages, limited networking)', async () => {
        const name = uniq('data-env-');
        env = await srv.client.beta.environments.create({
            name,
            description: 'seed example environment',
            metadata: { team: 'sdk' },
            config: seedConfig,
        });
        assert.match(env.id, /^env_/);
        assert.equal(env.type, 'environment');
        assert.equal(env.name, name);
        assert.equal(env.description, 'seed example environment');
        assert.deepEqual(env.metadata, { team: 'sdk' });
        assert.equal(env.archived_at, null);
        assert.ok(isTimestamp(env.created_at), `created_at: ${env.created_at}`);
        assert.ok(isTimestamp(env.updated_at), `updated_at: ${env.updated_at}`);
        assert.equal(env.config.type, 'cloud');
        assert.deepEqual(env.config.packages.pip, ['pandas', 'numpy']);
        for (const mgr of ['apt', 'cargo', 'gem', 'go', 'npm'])
            assert.deepEqual(env.config.packages[mgr], [], `packages.${mgr} defaults to []`);
        assert.equal(env.config.networking.type, 'limited');
        assert.deepEqual(env.config.networking.allowed_hosts, ['api.example.com']);
        assert.equal(typeof env.config.networking.allow_mcp_servers, 'boolean');
        assert.equal(typeof env.config.networking.allow_package_managers, 'boolean');
    });

    test('retrieve returns what create returned', async () => {
        const got = await srv.client.beta.environments.retrieve(env.id);
        assert.deepEqual(got, env);
    });

    test('retrieve exposes the request id', async () => {
        const { data, response, request_id } = await srv.client.beta.environments
            .retrieve(env.id)
            .withResponse();
        assert.equal(data.id, env.id);
        assert.equal(response.status, 200);
        assert.ok(request_id, 'request-id header present on success');
    });

    test('update (name, description, metadata merge/delete, networking)', async () => {
        await srv.client.beta.environments.update(env.id, { metadata: { keep: 'yes' } });
        const updated = await srv.client.beta.environments.update(env.id, {
            name: `${env.name}-v2`,
            description: null,
            metadata: { team: null, owner: 'qa' },
            config: { type: 'cloud', networking: { type: 'unrestricted' } },
        });
        assert.equal(updated.id, env.id);
        assert.equal(updated.name, `${env.name}-v2`);
        assert.equal(updated.description, null);
        assert.deepEqual(updated.metadata, { keep: 'yes', owner: 'qa' });
        assert.equal(updated.config.type, 'cloud');
        assert.equal(updated.config.networking.type, 'unrestricted');
        assert.equal(updated.created_at, env.created_at);
        assert.ok(Date.parse(updated.updated_at) >= Date.parse(env.updated_at));
        const again = await srv.client.beta.environments.retrieve(env.id);
        assert.deepEqual(again, updated);
        env = updated;
    });

    test('list (and auto-pagination with a small limit)', async () => {
        const extra = [];
        for (let i = 0; i < 5; ++i)
            extra.push(await srv.client.beta.environments.create({ name: uniq(`list-env-${i}-`) }));
        const firstPage = await srv.client.beta.environments.list({ limit: 2 });
        assert.equal(firstPage.data.length, 2);
        assert.ok(firstPage.next_page, 'next_page set when more items exist');
        assert.ok(firstPage.hasNextPage());

        const all = await collect(srv.client.beta.environments.list({ limit: 2 }));
        const ids = all.map((e) => e.id);
        assert.equal(new Set(ids).size, ids.length, 'no duplicates across pages');
        for (const e of [env, ...extra]) assert.ok(ids.includes(e.id), `${e.id} listed`);
        for (const e of all) assert.equal(e.type, 'environment');
    });

    test('archive hides from list unless include_archived', async () => {
        const archived = await srv.client.beta.environments.archive(env.id);
        assert.equal(archived.id, env.id);
        assert.ok(isTimestamp(archived.archived_at), `archived_at: ${archived.archived_at}`);

        const visible = (await collect(srv.client.beta.environments.list())).map((e) => e.id);
        assert.ok(!visible.includes(env.id), 'archived environment not listed by default');
        const withArchived = await collect(srv.client.beta.environments.list({ include_archived: true }));
        const found = withArchived.find((e) => e.id === env.id);
        assert.ok(found, 'listed with include_archived');
        assert.equal(found.archived_at, archived.archived_at);
    });

    test('delete, then retrieve is 404', async () => {
        const victim = await srv.client.beta.environments.create({ name: uniq('doomed-') });
        const deleted = await srv.client.beta.environments.delete(victim.id);
        assert.deepEqual(deleted, { id: victim.id, type: 'environment_deleted' });
        const err = await catchError(() => srv.client.beta.environments.retrieve(victim.id));
        assert.ok(err instanceof NotFoundError, `expected NotFoundError, got ${err}`);
        assert.equal(err.status, 404);
        const ids = (await collect(srv.client.beta.environments.list({ include_archived: true }))).map((e) => e.id);
        assert.ok(!ids.includes(victim.id));
    });
});
