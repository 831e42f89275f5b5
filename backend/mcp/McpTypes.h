#pragma once

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
    Kind kind = Kind::Protocol;
    QString message;
    int httpStatus = 0;
    int rpcCode = 0;
};

} // namespace viv::mcp
