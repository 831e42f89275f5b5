#pragma once

#include "ToolExecutor.h"
#include "mcp/McpClient.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>

namespace viv {

class SessionService;
class CredentialBroker;

// Server name → the tools it listed, for the servers of a session that are connected.
using McpCatalog = QHash<QString, QList<mcp::Tool>>;

// The MCP side of a session's tools: one mcp::Client per (session, server), opened lazily
// (on the turn's first model request, or on the first call after a restart) with the bearer of
// the session's vault credential that matches the server URL (CredentialBroker::mcpBearer),
// and closed when the session is archived, deleted or drops the server. The runtime routes
// each agent.mcp_tool_use it allowed here (runtime/ToolRouter: ToolCall::toolset Mcp; ToolCall::mcpServer names the server).
//
// A server that cannot be reached, or refuses the credential, never blocks anything: prepare()
// answers the session.error event describing it (mcp_connection_failed_error or
// mcp_authentication_failed_error; never a token) and the session goes on without that server.
// It is tried again on the session's next idle → running transition (`retryFailed`).
class McpTools : public QObject, public ToolExecutor
{
    Q_OBJECT
public:
    McpTools(SessionService &sessions, CredentialBroker &credentials, QObject *parent = nullptr);
    ~McpTools() override;

    // Connects the servers of `session`'s agent (the stored session document) that have an
    // enabled tool and are not connected yet (with `retryFailed`, also those that failed), then
    // answers the catalogue of the connected ones and one session.error per server that failed
    // in this call. Answers synchronously when nothing needs the network.
    void prepare(const QJsonObject &session, bool retryFailed,
                 const std::function<void(McpCatalog, QList<QJsonObject>)> &done);
    McpCatalog catalog(const QString &sessionId) const;

    // Whether the session's environment admits the server at `url`: empty when it does, else
    // the reason. The MCP client runs on the host, but a `limited` environment's
    // `allow_mcp_servers` / `allowed_hosts` decide whether the agent may reach an MCP server at
    // all, as they decide for the VM's own traffic. Set by the sandbox module (which owns
    // network policies); unset, every server is admitted. A refused server is a
    // mcp_connection_failed_error session.error, like an unreachable one.
    using EgressCheck = std::function<QString(const QJsonObject &session, const QString &url)>;
    void setEgressCheck(EgressCheck check) { m_egress = std::move(check); }

    // Where an oversized result is saved (the runtime's built-in tools: with a sandbox, a
    // `write` into the session's VM). A result whose text is over the limit
    // (VIVARIUM_MCP_RESULT_MAX_CHARS, 50,000 characters by default) is written to
    // mcp::resultSpillPath(tool use id) in the session's VM and the model gets a preview plus
    // the path; with no sandbox, or an agent without `read` / `bash`, or a write that fails, it
    // gets the text truncated at the limit and a note saying why (mcp/McpLargeResult.h). The
    // agent.mcp_tool_result event carries what the model got.
    void setBuiltinTools(std::function<ToolExecutor &()> tools) { m_builtinTools = std::move(tools); }

    std::unique_ptr<ToolExecution> execute(const ToolCall &call, std::function<void(ToolResult)> done) override;
    void releaseSession(const QString &sessionId) override;

private:
    struct Server
    {
        QString url;
        enum class State { Idle, Connecting, Ready, Failed } state = State::Idle;
        std::unique_ptr<mcp::Client> client;
        QList<mcp::Tool> tools;
        QString lastError;
        QList<std::function<void()>> waiters; // run once the connection attempt ends
    };
    // Opens one server; `done` gets the session.error event of a failure (empty on success).
    void connectServer(const QString &sessionId, const QString &name, const QJsonArray &vaultIds,
                       const std::function<void(QJsonObject)> &done);
    void settle(const QString &sessionId, const QString &name);
    // Answers `result`, or its oversized form (see setBuiltinTools); `keep` holds the write's
    // handle so that cancelling the call cancels it.
    void deliver(const ToolCall &call, ToolResult result, const std::function<void(ToolResult)> &answer,
                 const std::function<void(std::unique_ptr<ToolExecution>)> &keep);

    SessionService &m_sessions;
    CredentialBroker &m_credentials;
    QNetworkAccessManager m_nam;
    const mcp::Options m_options;
    const qsizetype m_resultMaxChars;
    std::function<ToolExecutor &()> m_builtinTools;
    EgressCheck m_egress;
    QHash<QString, QHash<QString, std::shared_ptr<Server>>> m_servers; // session → name → server
};

// The session.error for an MCP server that failed (`auth`: mcp_authentication_failed_error,
// else mcp_connection_failed_error); retry_status `retrying`: it is tried again on the next
// running transition.
QJsonObject mcpSessionError(const QString &serverName, const QString &message, bool auth);

} // namespace viv
