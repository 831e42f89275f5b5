#pragma once

#include "core/Result.h"

#include <QJsonArray>
#include <QString>

namespace viv {

class CredentialBroker;

// "Discover tools" in the agent designer: connects to an MCP server (initialize + tools/list
// through mcp::Client, every page) and answers its tools as [{name, description, read_only}].
// With a `vaultId`, the bearer is the one a session with that vault would send
// (CredentialBroker::mcpBearer); without, the server is called without Authorization. Runs on
// the calling (backend) thread's event loop; `done` runs once, later. A failure is an
// ApiError whose message says what went wrong (the client's message: URL and cause, never a
// credential). The connection is closed afterwards.
void discoverMcpTools(CredentialBroker &broker, const QString &vaultId, const QString &url,
                      const Callback<QJsonArray> &done);

} // namespace viv
