// Error mapping as the SDK sees it: status → error class, error body shape, request ids.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    catchError,
    uniq,
    useServer,
} from './helpers.mjs';

const srv = useServer();

/** Asserts the common Managed Agents error envelope on an SDK APIError. */
function assertEnvelope(err, status, type) {
    assert.ok(err instanceof APIError, `expected an APIError, got ${err?.stack ?? err}`);
    assert.equal(err.status, status, `status (message: ${err.message})`);
    assert.equal(err.type, type, 'err.type');
    assert.equal(err.error?.type, 'error', 'body.type is "error"');
    assert.equal(err.error?.error?.type, type, 'body.error.type');
    assert.equal(typeof err.error?.error?.message, 'string');
    assert.ok(err.error.error.message.length > 0, 'error message is not empty');
    assert.ok(err.requestID, 'request-id header present (err.requestID)');
    assert.equal(err.error?.request_id, err.requestID, 'body request_id equals the request-id header');
}

describe('errors', () => {
    test('wrong API key → AuthenticationError 401', async () => {
        const bad = srv.makeClient({ apiKey: `${srv.apiKey}-wrong` });
        const err = await catchError(() => bad.beta.environments.list());
        assert.ok(err instanceof AuthenticationError, `expected AuthenticationError, got ${err}`);
        assertEnvelope(err, 401, 'authentication_error');
    });

    test('wrong key is rejected on every resource family', async () => {
        const bad = srv.makeClient({ apiKey: 'sk-not-the-key' });
        for (const call of [
            () => bad.beta.agents.list(),
            () => bad.beta.environments.create({ name: 'x' }),
            () => bad.beta.vaults.list(),
            () => bad.beta.sessions.list(),
        ]) {
            const err = await catchError(call);
            assert.ok(err instanceof AuthenticationError, `expected AuthenticationError, got ${err}`);
            assert.equal(err.status, 401);
        }
    });

    test('Authorization: Bearer with the right key is accepted', async () => {
        const bearer = srv.makeClient({ apiKey: null, authToken: srv.apiKey });
        const page = await bearer.beta.environments.list();
        assert.ok(Array.isArray(page.data));
    });

    test('bad params → BadRequestError 400 invalid_request_error', async () => {
        const cases = [
            () => srv.client.beta.environments.create({}), // name missing
            () => srv.client.beta.environments.create({ name: 42 }), // wrong type
            () => srv.client.beta.environments.create({ name: uniq('e-'), config: { type: 'spaceship' } }),
            () => srv.client.beta.environments.list({ limit: 0 }),
            () => srv.client.beta.environments.list({ page: 'not-a-cursor' }),
        ];
        for (const call of cases) {
            const err = await catchError(call);
            assert.ok(err instanceof BadRequestError, `expected BadRequestError, got ${err}`);
            assertEnvelope(err, 400, 'invalid_request_error');
        }
    });

    test('bad update changes nothing', async () => {
        const env = await srv.client.beta.environments.create({ name: uniq('stable-') });
        const err = await catchError(() =>
            srv.client.beta.environments.update(env.id, { name: 'ok-name', config: { type: 'cloud', networking: { type: 'nope' } } }),
        );
        assertEnvelope(err, 400, 'invalid_request_error');
        assert.deepEqual(await srv.client.beta.environments.retrieve(env.id), env);
    });

    test('bad params on agents / sessions / vaults → 400', async () => {
        const cases = [
            () => srv.client.beta.agents.create({ name: uniq('a-') }), // model missing
            () => srv.client.beta.agents.create({ model: 'claude-sonnet-4-6' }), // name missing
            () => srv.client.beta.vaults.create({}), // display_name missing
            () => srv.client.beta.sessions.create({ agent: 42, environment_id: 'env_x' }),
        ];
        for (const call of cases) {
            const err = await catchError(call);
            assert.ok(err instanceof BadRequestError, `expected BadRequestError, got ${err}`);
            assertEnvelope(err, 400, 'invalid_request_error');
        }
    });

    test('unknown environment id → NotFoundError 404', async () => {
        for (const call of [
            () => srv.client.beta.environments.retrieve('env_doesnotexist0000000000'),
            () => srv.client.beta.environments.update('env_doesnotexist0000000000', { name: 'x' }),
            () => srv.client.beta.environments.archive('env_doesnotexist0000000000'),
            () => srv.client.beta.environments.delete('env_doesnotexist0000000000'),
        ]) {
            const err = await catchError(call);
            assert.ok(err instanceof NotFoundError, `expected NotFoundError, got ${err}`);
            assertEnvelope(err, 404, 'not_found_error');
        }
    });

    test('unknown agent / vault / session id → NotFoundError 404 (route exists)', async () => {
        // The family's list must work first, so a 404 cannot come from a missing route.
        const cases = [
            [() => srv.client.beta.agents.list(), () => srv.client.beta.agents.retrieve('agent_doesnotexist000000000')],
            [() => srv.client.beta.agents.list(), () => srv.client.beta.agents.versions.list('agent_doesnotexist000000000')],
            [() => srv.client.beta.vaults.list(), () => srv.client.beta.vaults.retrieve('vlt_doesnotexist0000000000')],
            [() => srv.client.beta.vaults.list(), () => srv.client.beta.vaults.credentials.list('vlt_doesnotexist0000000000')],
            [() => srv.client.beta.sessions.list(), () => srv.client.beta.sessions.retrieve('sesn_doesnotexist000000000')],
            [() => srv.client.beta.sessions.list(), () => srv.client.beta.sessions.events.list('sesn_doesnotexist000000000')],
        ];
        for (const [sanity, call] of cases) {
            const page = await sanity();
            assert.ok(Array.isArray(page.data), 'list works');
            const err = await catchError(call);
            assert.ok(err instanceof NotFoundError, `expected NotFoundError, got ${err}`);
            assertEnvelope(err, 404, 'not_found_error');
        }
    });

    test('request ids differ between requests', async () => {
        const a = await catchError(() => srv.client.beta.environments.retrieve('env_nope1'));
        const b = await catchError(() => srv.client.beta.environments.retrieve('env_nope2'));
        assert.ok(a.requestID && b.requestID);
        assert.notEqual(a.requestID, b.requestID);
    });
});
