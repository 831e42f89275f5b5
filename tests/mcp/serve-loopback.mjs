// Starts @modelcontextprotocol/server-everything (installed here by `npm ci`, see package.json)
// bound to 127.0.0.1 only: the package listens on every interface (express `listen(PORT)`), so
// this launcher makes any listen() on a bare port use the loopback address first.
//
//   PORT=<port> node serve-loopback.mjs streamableHttp|sse
//
// It prints the package's own "listening on port N" line when ready.

import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
    if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
        const callback = args.find((a) => typeof a === 'function');
        return listen.call(this, { port: Number(args[0]), host: '127.0.0.1' }, callback);
    }
    return listen.apply(this, args);
};

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.join(here, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
await import(pathToFileURL(entry).href);
