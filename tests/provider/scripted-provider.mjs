// A scripted model provider for tests and benchmarks: speaks the Anthropic Messages API
// (POST /v1/messages) and OpenAI chat completions (POST /v1/chat/completions, also
// /chat/completions), streaming included, on 127.0.0.1 only. Replies come from a FIFO queue
// that the test fills; every request is recorded so tests can assert what the model was sent.
//
// In-process:   const p = await startScriptedProvider(); p.enqueue({text: 'hi'}); … p.close()
// Standalone:   node scripted-provider.mjs [--port N]   → prints "listening on http://127.0.0.1:N"
//               control over HTTP: POST /_control/enqueue {"replies": [...]},
//               POST /_control/default {"reply": {...}} (used when the queue is empty),
//               GET /_control/requests, POST /_control/reset.
// In-process, setDefault() also takes a function (body, kind) → reply, called for each request that
// finds the queue empty: a model that answers from the conversation it is sent (concurrent sessions).
//
// A reply script:
//   text          assistant text (streamed in `chunks` pieces, default 3)
//   thinking      extended-thinking text (sent before the text)
//   tool_calls    [{name, input, id?}]  → tool_use blocks / tool_calls
//   stop          stop reason (default: tool_use when tool_calls, else end_turn)
//   usage         {input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens}
//   error         {status, type?, message?}  → HTTP error with the vendor's error body
//   delay_ms      wait before answering; chunk_delay_ms: wait between stream chunks
//   hang          true: after the text's first chunk the stream stalls until the client closes
//   stream_error  {type?, message?, code?}: after the text's first chunk, an error inside the 200
//                 stream (Anthropic `event: error`; OpenAI `data: {"error": …}`), then the end
// Each recorded request has `closedEarly`: true once the client closed it before the reply ended.

import http from 'node:http';
import { fileURLToPath } from 'node:url';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function split(text, n) {
    if (!text) return [];
    const size = Math.max(1, Math.ceil(text.length / n));
    const out = [];
    for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
    return out;
}

function usageOf(reply) {
    return {
        input_tokens: reply.usage?.input_tokens ?? 10,
        output_tokens: reply.usage?.output_tokens ?? 5,
        cache_read_input_tokens: reply.usage?.cache_read_input_tokens ?? 0,
        cache_creation_input_tokens: reply.usage?.cache_creation_input_tokens ?? 0,
    };
}

let toolCounter = 0;

async function streamAnthropic(res, reply, closed) {
    const send = async (event, data) => {
        if (closed()) return false;
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        if (reply.chunk_delay_ms) await sleep(reply.chunk_delay_ms);
        return !closed();
    };
    const u = usageOf(reply);
    await send('message_start', {
        type: 'message_start',
        message: {
            id: `msg_${Date.now()}`, type: 'message', role: 'assistant', model: 'scripted', content: [],
            stop_reason: null, usage: { input_tokens: u.input_tokens, output_tokens: 1,
                cache_read_input_tokens: u.cache_read_input_tokens, cache_creation_input_tokens: u.cache_creation_input_tokens },
        },
    });
    await send('ping', { type: 'ping' });
    let index = 0;
    if (reply.thinking) {
        await send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '' } });
        await send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: reply.thinking } });
        await send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: 'c2ln' } });
        await send('content_block_stop', { type: 'content_block_stop', index });
        ++index;
    }
    if (reply.text !== undefined) {
        await send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
        const parts = split(reply.text, reply.chunks ?? 3);
        for (let i = 0; i < parts.length; ++i) {
            if (!(await send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: parts[i] } }))) return;
            if (reply.hang && i === 0) {
                while (!closed()) await sleep(20);
                return;
            }
            if (reply.stream_error && i === 0) {
                await send('error', { type: 'error', error: { type: reply.stream_error.type ?? 'overloaded_error', message: reply.stream_error.message ?? 'scripted stream error' } });
                if (!closed()) res.end();
                return;
            }
        }
        await send('content_block_stop', { type: 'content_block_stop', index });
        ++index;
    }
    for (const call of reply.tool_calls ?? []) {
        const id = call.id ?? `toolu_${++toolCounter}`;
        await send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id, name: call.name, input: {} } });
        const json = JSON.stringify(call.input ?? {});
        for (const part of split(json, 2))
            await send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part } });
        await send('content_block_stop', { type: 'content_block_stop', index });
        ++index;
    }
    const stop = reply.stop ?? ((reply.tool_calls ?? []).length ? 'tool_use' : 'end_turn');
    await send('message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: u.output_tokens } });
    await send('message_stop', { type: 'message_stop' });
    if (!closed()) res.end();
}

async function streamOpenAi(res, reply, closed) {
    const base = { id: `chatcmpl-${Date.now()}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: 'scripted' };
    const send = async (data) => {
        if (closed()) return false;
        res.write(`data: ${typeof data === 'string' ? data : JSON.stringify({ ...base, ...data })}\n\n`);
        if (reply.chunk_delay_ms) await sleep(reply.chunk_delay_ms);
        return !closed();
    };
    await send({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    if (reply.thinking)
        await send({ choices: [{ index: 0, delta: { reasoning_content: reply.thinking }, finish_reason: null }] });
    const parts = split(reply.text ?? '', reply.chunks ?? 3);
    for (let i = 0; i < parts.length; ++i) {
        if (!(await send({ choices: [{ index: 0, delta: { content: parts[i] }, finish_reason: null }] }))) return;
        if (reply.hang && i === 0) {
            while (!closed()) await sleep(20);
            return;
        }
        if (reply.stream_error && i === 0) {
            const e = reply.stream_error;
            await send(JSON.stringify({ error: { message: e.message ?? 'scripted stream error', type: e.type ?? 'server_error', code: e.code ?? null } }));
            if (!closed()) res.end();
            return;
        }
    }
    const calls = reply.tool_calls ?? [];
    for (let i = 0; i < calls.length; ++i) {
        const id = calls[i].id ?? `call_${++toolCounter}`;
        const args = split(JSON.stringify(calls[i].input ?? {}), 2);
        await send({ choices: [{ index: 0, delta: { tool_calls: [{ index: i, id, type: 'function', function: { name: calls[i].name, arguments: args[0] ?? '' } }] }, finish_reason: null }] });
        for (const a of args.slice(1))
            await send({ choices: [{ index: 0, delta: { tool_calls: [{ index: i, function: { arguments: a } }] }, finish_reason: null }] });
    }
    const stop = reply.stop === 'max_tokens' ? 'length' : calls.length ? 'tool_calls' : 'stop';
    await send({ choices: [{ index: 0, delta: {}, finish_reason: stop }] });
    const u = usageOf(reply);
    await send({ choices: [], usage: { prompt_tokens: u.input_tokens + u.cache_read_input_tokens, completion_tokens: u.output_tokens,
        total_tokens: u.input_tokens + u.cache_read_input_tokens + u.output_tokens, prompt_tokens_details: { cached_tokens: u.cache_read_input_tokens } } });
    await send('[DONE]');
    if (!closed()) res.end();
}

function errorBody(kind, err) {
    const status = err.status ?? 500;
    const type = err.type ?? ({ 400: 'invalid_request_error', 401: 'authentication_error', 429: 'rate_limit_error', 529: 'overloaded_error' }[status] ?? 'api_error');
    const message = err.message ?? `scripted ${status}`;
    return kind === 'anthropic' ? { type: 'error', error: { type, message } } : { error: { message, type, code: String(status) } };
}

export async function startScriptedProvider({ port = 0 } = {}) {
    const queue = [];
    const requests = [];
    let fallback = null;
    const waiters = [];

    const server = http.createServer(async (req, res) => {
        let body = '';
        for await (const chunk of req) body += chunk;
        const url = new URL(req.url, 'http://127.0.0.1');
        if (url.pathname.startsWith('/_control/')) {
            const json = body ? JSON.parse(body) : {};
            if (url.pathname === '/_control/enqueue') queue.push(...(json.replies ?? []));
            else if (url.pathname === '/_control/default') fallback = json.reply ?? null;
            else if (url.pathname === '/_control/reset') { queue.length = 0; requests.length = 0; fallback = null; }
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(url.pathname === '/_control/requests' ? requests : { ok: true, queued: queue.length }));
            return;
        }
        const kind = url.pathname.endsWith('/messages') ? 'anthropic' : url.pathname.endsWith('/chat/completions') ? 'openai' : null;
        if (!kind || req.method !== 'POST') {
            res.writeHead(404, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: { message: `no route ${req.method} ${url.pathname}` } }));
            return;
        }
        let parsed = null;
        try { parsed = JSON.parse(body); } catch { /* recorded as null */ }
        const record = { kind, path: url.pathname, headers: { 'x-api-key': req.headers['x-api-key'], authorization: req.headers.authorization, 'anthropic-version': req.headers['anthropic-version'] }, body: parsed, at: Date.now() };
        requests.push(record);
        for (const w of waiters.splice(0)) w();
        const reply = queue.length ? queue.shift() : typeof fallback === 'function' ? fallback(parsed, kind) : fallback;
        if (!reply) {
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify(errorBody(kind, { status: 500, message: 'scripted provider: no reply queued' })));
            return;
        }
        let isClosed = false;
        record.closedEarly = false;
        res.on('close', () => { isClosed = true; if (!res.writableFinished) record.closedEarly = true; });
        const closed = () => isClosed || res.destroyed;
        if (reply.delay_ms) await sleep(reply.delay_ms);
        if (closed()) return;
        if (reply.error) {
            const headers = { 'content-type': 'application/json' };
            if (reply.error.retry_after !== undefined) headers['retry-after'] = String(reply.error.retry_after);
            res.writeHead(reply.error.status ?? 500, headers);
            res.end(JSON.stringify(errorBody(kind, reply.error)));
            return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        if (kind === 'anthropic') await streamAnthropic(res, reply, closed);
        else await streamOpenAi(res, reply, closed);
    });
    server.keepAliveTimeout = 60_000;
    await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${server.address().port}`;
    return {
        url,
        enqueue: (...replies) => queue.push(...replies),
        setDefault: (reply) => { fallback = reply; },
        requests,
        pending: () => queue.length,
        reset: () => { queue.length = 0; requests.length = 0; fallback = null; },
        /** Resolves once at least n requests have been received (or rejects after timeoutMs). */
        waitForRequests: async (n, timeoutMs = 10_000) => {
            const deadline = Date.now() + timeoutMs;
            while (requests.length < n) {
                if (Date.now() > deadline) throw new Error(`expected ${n} model requests, got ${requests.length}`);
                await new Promise((r) => { waiters.push(r); setTimeout(r, 50); });
            }
            return requests;
        },
        close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
    };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const i = process.argv.indexOf('--port');
    const p = await startScriptedProvider({ port: i > 0 ? Number(process.argv[i + 1]) : 0 });
    console.log(`listening on ${p.url}`);
}
