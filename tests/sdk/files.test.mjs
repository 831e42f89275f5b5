// client.beta.files.* against vivariumd: multipart upload through the SDK's own form builder,
// metadata, list (pagination and ids filter), byte-exact download, delete.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError, NotFoundError, catchError, collect, isTimestamp, toFile, useServer } from './helpers.mjs';

const srv = useServer();

// Every byte value, NULs and CRLF-dash sequences that look like multipart boundaries.
function binaryPayload() {
    const head = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    return Buffer.concat([head, Buffer.alloc(32), Buffer.from('\r\n--formdata-undici-\r\n\r\n--\r\n'), head.reverse()]);
}

function assertMetadata(f) {
    assert.deepEqual(Object.keys(f).sort(), [
        'created_at',
        'downloadable',
        'expires_at',
        'filename',
        'id',
        'mime_type',
        'scope',
        'size_bytes',
        'type',
    ]);
    assert.match(f.id, /^file_/);
    assert.equal(f.type, 'file');
    assert.equal(f.downloadable, true);
    assert.equal(f.scope, null);
    assert.ok(isTimestamp(f.created_at), `created_at: ${f.created_at}`);
}

describe('files', () => {
    const bytes = binaryPayload();
    let file;

    test('upload (toFile, binary bytes)', async () => {
        file = await srv.client.beta.files.upload({
            file: await toFile(bytes, 'data.bin', { type: 'application/octet-stream' }),
        });
        assertMetadata(file);
        assert.equal(file.filename, 'data.bin');
        assert.equal(file.mime_type, 'application/octet-stream');
        assert.equal(file.size_bytes, bytes.length);
        assert.equal(file.expires_at, null);
    });

    test('retrieveMetadata returns what upload returned', async () => {
        const got = await srv.client.beta.files.retrieveMetadata(file.id);
        assert.deepEqual(got, file);
    });

    test('download returns the exact bytes, type and filename', async () => {
        const response = await srv.client.beta.files.download(file.id);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('content-type'), 'application/octet-stream');
        assert.match(response.headers.get('content-disposition') ?? '', /filename="data\.bin"/);
        const got = Buffer.from(await response.arrayBuffer());
        assert.equal(got.length, bytes.length);
        assert.ok(got.equals(bytes), 'downloaded bytes equal the uploaded bytes');
    });

    test('upload with a text type, a unicode name and expires_in_seconds', async () => {
        const text = 'hello, files\n';
        const f = await srv.client.beta.files.upload({
            file: await toFile(Buffer.from(text), 'résumé notes.txt', { type: 'text/plain' }),
            expires_in_seconds: 3600,
        });
        assertMetadata(f);
        assert.equal(f.filename, 'résumé notes.txt');
        assert.match(f.mime_type, /^text\/plain/);
        assert.equal(f.size_bytes, Buffer.byteLength(text));
        assert.ok(isTimestamp(f.expires_at), `expires_at: ${f.expires_at}`);
        assert.equal(Date.parse(f.expires_at) - Date.parse(f.created_at), 3600 * 1000);
        const body = await (await srv.client.beta.files.download(f.id)).text();
        assert.equal(body, text);
    });

    test('upload rejects a bad expires_in_seconds and an empty file (BadRequestError)', async () => {
        const before = await collect(srv.client.beta.files.list());
        let err = await catchError(async () =>
            srv.client.beta.files.upload({ file: await toFile(Buffer.from('x'), 'x.txt'), expires_in_seconds: 10 }),
        );
        assert.ok(err instanceof BadRequestError, `expected BadRequestError, got ${err}`);
        assert.equal(err.error?.error?.type, 'invalid_request_error');
        err = await catchError(async () => srv.client.beta.files.upload({ file: await toFile(Buffer.alloc(0), 'e.txt') }));
        assert.ok(err instanceof BadRequestError, `expected BadRequestError, got ${err}`);
        const after = await collect(srv.client.beta.files.list());
        assert.deepEqual(after.map((f) => f.id), before.map((f) => f.id));
    });

    test('list: newest first, pages, ids filter', async () => {
        const made = [];
        for (let i = 0; i < 3; ++i)
            made.push(await srv.client.beta.files.upload({ file: await toFile(Buffer.from(`page ${i}`), `p${i}.txt`) }));
        const first = await srv.client.beta.files.list({ limit: 2 });
        assert.equal(first.data.length, 2);
        assert.deepEqual(first.data.map((f) => f.id), [made[2].id, made[1].id]);
        assert.ok(first.next_page, 'next_page on a full page');
        const all = await collect(srv.client.beta.files.list({ limit: 2 }));
        const ids = all.map((f) => f.id);
        assert.equal(new Set(ids).size, ids.length, 'no file twice');
        for (const f of [...made, file]) assert.ok(ids.includes(f.id), `${f.id} listed`);
        for (const f of all) assertMetadata(f);

        const some = await srv.client.beta.files.list({ ids: [made[0].id, file.id, 'file_01doesnotexistdoesnotexi'] });
        assert.deepEqual(some.data.map((f) => f.id), [made[0].id, file.id]);
        assert.equal(some.next_page, null);
    });

    test('delete, then everything is 404', async () => {
        const deleted = await srv.client.beta.files.delete(file.id);
        assert.deepEqual(deleted, { id: file.id, type: 'file_deleted' });
        for (const call of [
            () => srv.client.beta.files.retrieveMetadata(file.id),
            () => srv.client.beta.files.download(file.id),
            () => srv.client.beta.files.delete(file.id),
        ]) {
            const err = await catchError(call);
            assert.ok(err instanceof NotFoundError, `expected NotFoundError, got ${err}`);
            assert.equal(err.error?.error?.type, 'not_found_error');
        }
        const listed = await collect(srv.client.beta.files.list());
        assert.ok(!listed.some((f) => f.id === file.id), 'deleted file is not listed');
    });
});
