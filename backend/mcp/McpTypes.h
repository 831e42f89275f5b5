#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>

namespace viv::mcp {

// One tool a server lists (tools/list).
struct Tool
{
    QString name;
    QString description;
    QJsonObject inputSchema;
    bool readOnly = false; // annotations.readOnlyHint true and destructiveHint not true
};

// Every way a server can fail, as the client reports it. `message` is for people (and the
// session's events): it names the server URL and what went wrong, never a credential.
struct Error
{
    enum class Kind {
        Connect,        // no connection (refused, host not found, TLS) or it broke mid-request
        Http,           // an HTTP status the protocol does not allow here
        Auth,           // 401 / 403: the server refused the credential (or wants one)
        Protocol,       // a body that is not JSON-RPC, a stream that ended without the answer, …
        Rpc,            // a JSON-RPC error object (`rpcCode`)
        Timeout,        // no answer in time
        Cancelled,      // cancelled by the caller (interrupt)
        SessionExpired, // 404 on a request carrying Mcp-Session-Id: the server forgot the session
    };
    Error() = default;
    Error(Kind k, QString m, int status = 0, int code = 0)
        : kind(k), message(std::move(m)), httpStatus(status), rpcCode(code)
    {}

    Kind kind = Kind::Protocol;
    QString message;
    int httpStatus = 0;
    int rpcCode = 0;
    QString method;      // the JSON-RPC method that failed (initialize, tools/list, tools/call)
    QString contentType; // an HTTP error's Content-Type
    QByteArray body;     // an HTTP error's body, raw: never put it anywhere without scrubbing it
};

} // namespace viv::mcp
