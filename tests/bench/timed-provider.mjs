// The scripted model provider (tests/provider/scripted-provider.mjs) for the turn-overhead
// benchmark, plus one thing: for every streamed model response it prints
//     lastbyte <ns>
// where <ns> is CLOCK_MONOTONIC (process.hrtime.bigint(), libuv's uv_hrtime) taken just BEFORE
// the response's final write (res.end(), the chunked terminator that follows message_stop).
// The benchmark reads the same clock when session.status_idle has been committed, so the
// difference is the backend's tail measured from the wire, independently of the runtime's own
// turnMeasured figure (it additionally includes loopback transit and Qt's network thread hop).
//
// usage: node timed-provider.mjs   → prints "listening on http://127.0.0.1:N" first
import http from 'node:http';
import { startScriptedProvider } from '../provider/scripted-provider.mjs';

const end = http.ServerResponse.prototype.end;
http.ServerResponse.prototype.end = function (...args) {
    const streamed = this.statusCode === 200 && (this.req?.url ?? '').endsWith('/messages') && !this.writableEnded;
    const t = process.hrtime.bigint(); // before the last byte goes out (conservative)
    const r = end.apply(this, args);
    if (streamed) process.stdout.write(`lastbyte ${t}\n`);
    return r;
};

const p = await startScriptedProvider();
process.stdout.write(`listening on ${p.url}\n`);
