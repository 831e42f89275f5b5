// client.beta.vaults.* and client.beta.vaults.credentials.* against vivariumd.
// Credentials live in the OS keychain: run under tests/run-with-keyring.sh.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { APIError, NotFoundError, catchError, collect, isTimestamp, recordSecret, uniq, useServer } from './helpers.mjs';


// Every secret this file ever sends. None may come back in any response, nor land in the
// server's log or data directory.
const secrets = [];
function secret(label) {
    const s = recordSecret(`${label}-SECRET-${randomBytes(12).toString('hex')}`);
    secrets.push(s);
    return s;
}

// Every parsed SDK response, and every raw HTTP response body (through a fetch spy).
const responses = [];
const rawBodies = [];
let client;
const rec = (r) => {
    responses.push(r);
    return r;
};

const srv = useServer((srv) => {
    client = srv.makeClient({
        fetch: async (url, init) => {
            const res = await fetch(url, init);
            rawBodies.push(`${res.status} ${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${await res.clone().text()}`);
            return res;
        },
    });
});

function assertNoSecretIn(text, where) {
    for (const s of secrets) assert.ok(!text.includes(s), `secret ${s.slice(0, 12)}… leaked into ${where}`);
}

describe('vaults', () => {
    let vault;

    test('create', async () => {
        vault = rec(await client.beta.vaults.create({ display_name: 'Alice', metadata: { external_user_id: 'usr_abc123' } }));
        assert.match(vault.id, /^vlt_/);
        assert.equal(vault.type, 'vault');
        assert.equal(vault.display_name, 'Alice');
        assert.deepEqual(vault.metadata, { external_user_id: 'usr_abc123' });
        assert.equal(vault.archived_at, null);
        assert.ok(isTimestamp(vault.created_at));
        assert.ok(isTimestamp(vault.updated_at));
    });

    test('retrieve', async () => {
        assert.deepEqual(rec(await client.beta.vaults.retrieve(vault.id)), vault);
    });

    test('update', async () => {
        const u = rec(
            await client.beta.vaults.update(vault.id, {
                display_name: 'Alice (work)',
                metadata: { external_user_id: null, team: 'red' },
            }),
        );
        assert.equal(u.id, vault.id);
        assert.equal(u.display_name, 'Alice (work)');
        assert.deepEqual(u.metadata, { team: 'red' });
        assert.equal(u.created_at, vault.created_at);
        assert.deepEqual(rec(await client.beta.vaults.retrieve(vault.id)), u);
        vault = u;
    });

    test('list with pagination', async () => {
        for (let i = 0; i < 3; ++i) rec(await client.beta.vaults.create({ display_name: uniq('v-') }));
        const first = rec(await client.beta.vaults.list({ limit: 2 }));
        assert.equal(first.data.length, 2);
        assert.ok(first.hasNextPage());
        const all = await collect(client.beta.vaults.list({ limit: 2 }));
        responses.push(...all);
        const ids = all.map((v) => v.id);
        assert.ok(ids.length >= 4);
        assert.equal(new Set(ids).size, ids.length);
        assert.ok(ids.includes(vault.id));
    });

    test('archive hides from list unless include_archived', async () => {
        const v = rec(await client.beta.vaults.create({ display_name: uniq('archived-') }));
        const a = rec(await client.beta.vaults.archive(v.id));
        assert.equal(a.id, v.id);
        assert.ok(isTimestamp(a.archived_at));
        const visible = (await collect(client.beta.vaults.list())).map((x) => x.id);
        assert.ok(!visible.includes(v.id));
        const all = (await collect(client.beta.vaults.list({ include_archived: true }))).map((x) => x.id);
        assert.ok(all.includes(v.id));
    });

    test('delete, then retrieve is 404', async () => {
        const v = rec(await client.beta.vaults.create({ display_name: uniq('doomed-') }));
        assert.deepEqual(rec(await client.beta.vaults.delete(v.id)), { id: v.id, type: 'vault_deleted' });
        const err = await catchError(() => client.beta.vaults.retrieve(v.id));
        assert.ok(err instanceof NotFoundError, String(err));
    });
});

describe('vault credentials', () => {
    let vault;
    const creds = {};

    before(async () => {
        vault = rec(await client.beta.vaults.create({ display_name: uniq('creds-') }));
    });

    test('create static_bearer', async () => {
        const c = rec(
            await client.beta.vaults.credentials.create(vault.id, {
                display_name: 'Example MCP',
                metadata: { purpose: 'mcp' },
                auth: { type: 'static_bearer', token: secret('bearer'), mcp_server_url: 'https://mcp.example.com/mcp' },
            }),
        );
        assert.match(c.id, /^vcrd_/);
        assert.equal(c.type, 'vault_credential');
        assert.equal(c.vault_id, vault.id);
        assert.equal(c.display_name, 'Example MCP');
        assert.deepEqual(c.metadata, { purpose: 'mcp' });
        assert.equal(c.archived_at, null);
        assert.ok(isTimestamp(c.created_at));
        assert.deepEqual(c.auth, { type: 'static_bearer', mcp_server_url: 'https://mcp.example.com/mcp' });
        assert.equal('token' in c.auth, false, 'token is write-only');
        creds.bearer = c;
    });

    test('create environment_variable', async () => {
        const c = rec(
            await client.beta.vaults.credentials.create(vault.id, {
                display_name: 'API token',
                auth: {
                    type: 'environment_variable',
                    secret_name: 'EXAMPLE_TOKEN',
                    secret_value: secret('envvar'),
                    networking: { type: 'limited', allowed_hosts: ['api.example.com'] },
                    injection_location: { header: true },
                },
            }),
        );
        assert.match(c.id, /^vcrd_/);
        assert.equal(c.vault_id, vault.id);
        assert.equal(c.auth.type, 'environment_variable');
        assert.equal(c.auth.secret_name, 'EXAMPLE_TOKEN');
        assert.deepEqual(c.auth.networking, { type: 'limited', allowed_hosts: ['api.example.com'] });
        assert.equal(c.auth.injection_location.header, true);
        assert.equal(typeof c.auth.injection_location.body, 'boolean');
        assert.equal('secret_value' in c.auth, false, 'secret_value is write-only');
        creds.env = c;
    });

    test('create mcp_oauth', async () => {
        const c = rec(
            await client.beta.vaults.credentials.create(vault.id, {
                display_name: 'OAuth MCP',
                auth: {
                    type: 'mcp_oauth',
                    mcp_server_url: 'https://oauth-mcp.example.com/mcp',
                    access_token: secret('access'),
                    expires_at: '2030-01-01T00:00:00Z',
                    refresh: {
                        client_id: 'client-123',
                        refresh_token: secret('refresh'),
                        token_endpoint: 'https://auth.example.com/token',
                        token_endpoint_auth: { type: 'client_secret_post', client_secret: secret('clientsecret') },
                        scope: 'read write',
                    },
                },
            }),
        );
        assert.match(c.id, /^vcrd_/);
        assert.equal(c.auth.type, 'mcp_oauth');
        assert.equal(c.auth.mcp_server_url, 'https://oauth-mcp.example.com/mcp');
        assert.equal(c.auth.expires_at, '2030-01-01T00:00:00Z', 'the timestamp as sent');
        assert.equal(c.auth.refresh.client_id, 'client-123');
        assert.equal(c.auth.refresh.token_endpoint, 'https://auth.example.com/token');
        assert.deepEqual(c.auth.refresh.token_endpoint_auth, { type: 'client_secret_post' });
        assert.equal(c.auth.refresh.scope, 'read write');
        assert.equal('access_token' in c.auth, false);
        assert.equal('refresh_token' in c.auth.refresh, false);
        creds.oauth = c;
    });

    // A timestamp the client sent is the client's datum: it comes back as the same string
    // (fractional digits, offset and all), never re-formatted — on create, retrieve, list and
    // update.
    test('mcp_oauth expires_at comes back exactly as sent', async () => {
        const sent = '2030-06-01T12:34:56.789123+02:00';
        const c = rec(
            await client.beta.vaults.credentials.create(vault.id, {
                auth: {
                    type: 'mcp_oauth',
                    mcp_server_url: 'https://ts-mcp.example.com/mcp',
                    access_token: secret('ts-access'),
                    expires_at: sent,
                },
            }),
        );
        assert.equal(c.auth.expires_at, sent);
        assert.equal(rec(await client.beta.vaults.credentials.retrieve(c.id, { vault_id: vault.id })).auth.expires_at, sent);
        const listed = (await collect(client.beta.vaults.credentials.list(vault.id))).find((x) => x.id === c.id);
        assert.equal(listed.auth.expires_at, sent);
        for (const next of ['2031-01-02T03:04:05.5-07:30', '2032-02-03T04:05:06z', '2033-03-04T05:06:07Z']) {
            const u = rec(
                await client.beta.vaults.credentials.update(c.id, {
                    vault_id: vault.id,
                    auth: { type: 'mcp_oauth', access_token: secret('ts-access-2'), expires_at: next },
                }),
            );
            assert.equal(u.auth.expires_at, next);
            assert.equal(rec(await client.beta.vaults.credentials.retrieve(c.id, { vault_id: vault.id })).auth.expires_at, next);
        }
        rec(await client.beta.vaults.credentials.delete(c.id, { vault_id: vault.id }));
    });

    test('retrieve each', async () => {
        for (const c of Object.values(creds)) {
            const got = rec(await client.beta.vaults.credentials.retrieve(c.id, { vault_id: vault.id }));
            assert.deepEqual(got, c);
        }
    });

    test('update each (rotating the secret)', async () => {
        const b = rec(
            await client.beta.vaults.credentials.update(creds.bearer.id, {
                vault_id: vault.id,
                display_name: 'Example MCP (rotated)',
                auth: { type: 'static_bearer', token: secret('bearer2') },
            }),
        );
        assert.equal(b.id, creds.bearer.id);
        assert.equal(b.display_name, 'Example MCP (rotated)');
        assert.deepEqual(b.auth, creds.bearer.auth, 'non-secret auth fields preserved');

        const e = rec(
            await client.beta.vaults.credentials.update(creds.env.id, {
                vault_id: vault.id,
                metadata: { rotated: 'yes' },
                auth: {
                    type: 'environment_variable',
                    secret_value: secret('envvar2'),
                    networking: { type: 'limited', allowed_hosts: ['api.example.com', 'uploads.example.com'] },
                },
            }),
        );
        assert.deepEqual(e.metadata, { rotated: 'yes' });
        assert.equal(e.auth.secret_name, 'EXAMPLE_TOKEN');
        assert.deepEqual(e.auth.networking.allowed_hosts, ['api.example.com', 'uploads.example.com']);

        const o = rec(
            await client.beta.vaults.credentials.update(creds.oauth.id, {
                vault_id: vault.id,
                auth: {
                    type: 'mcp_oauth',
                    access_token: secret('access2'),
                    refresh: { refresh_token: secret('refresh2'), scope: 'read' },
                },
            }),
        );
        assert.equal(o.auth.mcp_server_url, 'https://oauth-mcp.example.com/mcp');
        assert.equal(o.auth.refresh.scope, 'read');
        assert.equal(o.auth.refresh.client_id, 'client-123');

        for (const [k, c] of [['bearer', b], ['env', e], ['oauth', o]]) {
            assert.deepEqual(rec(await client.beta.vaults.credentials.retrieve(c.id, { vault_id: vault.id })), c);
            creds[k] = c;
        }
    });

    test('list', async () => {
        const all = await collect(client.beta.vaults.credentials.list(vault.id));
        responses.push(...all);
        assert.deepEqual(
            all.map((c) => c.id).sort(),
            Object.values(creds).map((c) => c.id).sort(),
        );
        for (const c of all) assert.equal(c.vault_id, vault.id);
        const page = rec(await client.beta.vaults.credentials.list(vault.id, { limit: 2 }));
        assert.equal(page.data.length, 2);
        assert.ok(page.hasNextPage());
    });

    test('archive credential', async () => {
        const a = rec(await client.beta.vaults.credentials.archive(creds.env.id, { vault_id: vault.id }));
        assert.equal(a.id, creds.env.id);
        assert.ok(isTimestamp(a.archived_at));
        const visible = (await collect(client.beta.vaults.credentials.list(vault.id))).map((c) => c.id);
        assert.ok(!visible.includes(creds.env.id));
        const all = await collect(client.beta.vaults.credentials.list(vault.id, { include_archived: true }));
        responses.push(...all);
        assert.ok(all.some((c) => c.id === creds.env.id && c.archived_at));
    });

    test('delete credential, then retrieve is 404', async () => {
        const d = rec(await client.beta.vaults.credentials.delete(creds.bearer.id, { vault_id: vault.id }));
        assert.deepEqual(d, { id: creds.bearer.id, type: 'vault_credential_deleted' });
        const err = await catchError(() => client.beta.vaults.credentials.retrieve(creds.bearer.id, { vault_id: vault.id }));
        assert.ok(err instanceof NotFoundError, String(err));
        rawBodies.push(JSON.stringify(err.error));
    });

    test('a credential is only reachable through its own vault', async () => {
        const other = rec(await client.beta.vaults.create({ display_name: uniq('other-') }));
        const err = await catchError(() => client.beta.vaults.credentials.retrieve(creds.oauth.id, { vault_id: other.id }));
        assert.ok(err instanceof NotFoundError, String(err));
    });

    test('bad credential params → 400 and nothing stored', async () => {
        const before = (await collect(client.beta.vaults.credentials.list(vault.id, { include_archived: true }))).length;
        for (const auth of [
            { type: 'static_bearer', mcp_server_url: 'https://mcp.example.com/mcp' }, // token missing
            { type: 'environment_variable', secret_name: 'X', networking: { type: 'unrestricted' } }, // value missing
            { type: 'carrier_pigeon', token: secret('bad') },
        ]) {
            const err = await catchError(() => client.beta.vaults.credentials.create(vault.id, { auth }));
            assert.ok(err instanceof APIError, String(err));
            assert.equal(err.status, 400, err.message);
            assert.equal(err.type, 'invalid_request_error');
            rawBodies.push(JSON.stringify(err.error));
        }
        const after = (await collect(client.beta.vaults.credentials.list(vault.id, { include_archived: true }))).length;
        assert.equal(after, before);
    });

    test('deleting a vault deletes its credentials', async () => {
        const v = rec(await client.beta.vaults.create({ display_name: uniq('gone-') }));
        const c = rec(
            await client.beta.vaults.credentials.create(v.id, {
                auth: { type: 'static_bearer', token: secret('gone'), mcp_server_url: 'https://mcp.example.com/x' },
            }),
        );
        rec(await client.beta.vaults.delete(v.id));
        const err = await catchError(() => client.beta.vaults.credentials.retrieve(c.id, { vault_id: v.id }));
        assert.ok(err instanceof NotFoundError, String(err));
    });
});

describe('secrets never leave the keychain', () => {
    test('no response contains a secret (JSON.stringify of every response)', () => {
        assert.ok(secrets.length >= 6, 'secrets were sent');
        assert.ok(responses.length > 10, `responses recorded (${responses.length})`);
        for (const r of responses) assertNoSecretIn(JSON.stringify(r), `response ${JSON.stringify(r).slice(0, 80)}`);
    });

    test('no raw HTTP response (headers + body) contains a secret', () => {
        assert.ok(rawBodies.length > 10);
        for (const body of rawBodies) assertNoSecretIn(body, `raw response ${body.slice(0, 80)}`);
    });

    test('the server log does not contain a secret', () => {
        assertNoSecretIn(srv.log(), 'the vivariumd log');
    });

    test('the data directory (database files) does not contain a secret', async () => {
        const files = (await readdir(srv.dataDir, { recursive: true, withFileTypes: true }))
            .filter((d) => d.isFile())
            .map((d) => path.join(d.parentPath ?? d.path, d.name));
        assert.ok(files.length > 0, 'data dir has files');
        for (const f of files) assertNoSecretIn((await readFile(f)).toString('latin1'), f);
    });
});

