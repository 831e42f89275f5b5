#include "McpTools.h"

#include "ToolCatalog.h"
#include "RuntimeEvents.h"
#include "mcp/McpContent.h"
#include "mcp/McpLargeResult.h"
#include "services/CredentialBroker.h"
#include "services/SessionService.h"

#include <QPointer>
#include <QTimer>

namespace viv {

using namespace runtime_events;

QJsonObject mcpSessionError(const QString &serverName, const QString &message, bool auth)
{
    return ev(QStringLiteral("session.error"),
              {{QStringLiteral("error"),
                QJsonObject{{kType, auth ? QStringLiteral("mcp_authentication_failed_error")
                                         : QStringLiteral("mcp_connection_failed_error")},
                            {QStringLiteral("mcp_server_name"), serverName},
                            {QStringLiteral("message"), message},
                            {QStringLiteral("retry_status"), QJsonObject{{kType, QStringLiteral("retrying")}}}}}});
}

namespace {

// A client may be dropped from inside one of its own callbacks: delete it later.
void dropClient(std::unique_ptr<mcp::Client> &client)
{
    if (client)
        client.release()->deleteLater();
}

// Whether the agent's toolset for `server` enables at least one tool (a server with none is
// not connected at all).
bool offersAny(const QJsonObject &agent, const QString &server)
{
    for (const QJsonValue &v : agent.value(QStringLiteral("tools")).toArray()) {
        const QJsonObject t = v.toObject();
        if (t.value(kType).toString() != u"mcp_toolset"
            || t.value(QStringLiteral("mcp_server_name")).toString() != server)
            continue;
        if (t.value(QStringLiteral("default_config")).toObject().value(QStringLiteral("enabled")).toBool(true))
            return true;
        for (const QJsonValue &c : t.value(QStringLiteral("configs")).toArray())
            if (c.toObject().value(QStringLiteral("enabled")).toBool(false))
                return true;
    }
    return false;
}

struct CallState
{
    bool cancelled = false;
    std::unique_ptr<mcp::PendingCall> call;
    std::unique_ptr<ToolExecution> save; // writing an oversized result into the session's VM
};

// Cancelling (or dropping) the handle cancels the MCP request (notifications/cancelled) and
// guarantees the runtime's callback never runs.
class McpExecution final : public ToolExecution
{
public:
    ~McpExecution() override { cancel(); }
    void cancel() override
    {
        m_state->cancelled = true;
        if (auto call = std::move(m_state->call))
            call->cancel(QStringLiteral("the user interrupted the session"));
        if (auto save = std::move(m_state->save))
            save->cancel();
    }
    std::shared_ptr<CallState> m_state = std::make_shared<CallState>();
};

} // namespace

McpTools::McpTools(SessionService &sessions, CredentialBroker &credentials, QObject *parent)
    : QObject(parent),
      m_sessions(sessions),
      m_credentials(credentials),
      m_options(mcp::Options::fromEnvironment()),
      m_resultMaxChars(mcp::resultMaxCharsFromEnvironment())
{}

McpTools::~McpTools() = default;

McpCatalog McpTools::catalog(const QString &sessionId) const
{
    McpCatalog out;
    const auto servers = m_servers.value(sessionId);
    for (auto it = servers.cbegin(); it != servers.cend(); ++it)
        if ((*it)->state == Server::State::Ready)
            out.insert(it.key(), (*it)->tools);
    return out;
}

void McpTools::prepare(const QJsonObject &session, bool retryFailed,
                       const std::function<void(McpCatalog, QList<QJsonObject>)> &done)
{
    const QString sessionId = session.value(kId).toString();
    const QJsonObject agent = session.value(QStringLiteral("agent")).toObject();
    const QJsonArray vaultIds = session.value(QStringLiteral("vault_ids")).toArray();
    // Servers the agent no longer has (a session update replaced mcp_servers) are closed.
    QHash<QString, QString> wanted;
    for (const QJsonValue &v : agent.value(QStringLiteral("mcp_servers")).toArray()) {
        const QJsonObject s = v.toObject();
        if (offersAny(agent, s.value(QStringLiteral("name")).toString()))
            wanted.insert(s.value(QStringLiteral("name")).toString(), s.value(QStringLiteral("url")).toString());
    }
    if (wanted.isEmpty() && !m_servers.contains(sessionId))
        return done({}, {}); // no MCP at all: nothing to keep per session
    auto &servers = m_servers[sessionId];
    for (auto it = servers.begin(); it != servers.end();) {
        if (wanted.value(it.key()) != (*it)->url && (*it)->state != Server::State::Connecting)
            it = servers.erase(it);
        else
            ++it;
    }
    QStringList toOpen;
    QList<QJsonObject> refused;
    for (auto it = wanted.cbegin(); it != wanted.cend(); ++it) {
        auto &s = servers[it.key()];
        if (!s) {
            s = std::make_shared<Server>();
            s->url = it.value();
        }
        if (s->state != Server::State::Idle && !(s->state == Server::State::Failed && retryFailed))
            continue;
        if (const QString why = m_egress ? m_egress(session, s->url) : QString(); !why.isEmpty()) {
            s->state = Server::State::Failed;
            s->lastError = why;
            s->tools.clear();
            dropClient(s->client);
            refused.append(mcpSessionError(it.key(), QStringLiteral("MCP server \"%1\": %2").arg(it.key(), why), false));
            continue;
        }
        toOpen << it.key();
    }
    if (toOpen.isEmpty())
        return done(catalog(sessionId), refused);
    auto errors = std::make_shared<QList<QJsonObject>>(refused);
    auto left = std::make_shared<int>(int(toOpen.size()));
    QPointer<McpTools> self(this);
    for (const QString &name : std::as_const(toOpen)) {
        connectServer(sessionId, name, vaultIds, [self, sessionId, errors, left, done](const QJsonObject &error) {
            if (!error.isEmpty())
                errors->append(error);
            if (--*left == 0 && self)
                done(self->catalog(sessionId), *errors);
        });
    }
}

void McpTools::connectServer(const QString &sessionId, const QString &name, const QJsonArray &vaultIds,
                             const std::function<void(QJsonObject)> &done)
{
    std::shared_ptr<Server> server = m_servers.value(sessionId).value(name);
    if (!server)
        return done({});
    if (server->state == Server::State::Connecting) {
        server->waiters.append([server, name, done] {
            done(server->state == Server::State::Ready ? QJsonObject{}
                                                       : mcpSessionError(name, server->lastError, false));
        });
        return;
    }
    server->state = Server::State::Connecting;
    dropClient(server->client);
    QPointer<McpTools> self(this);
    std::weak_ptr<Server> weak = server;
    auto fail = [self, weak, sessionId, name, done](const QString &message, bool auth) {
        if (auto s = weak.lock()) {
            s->state = Server::State::Failed;
            s->lastError = message;
            dropClient(s->client);
        }
        done(mcpSessionError(name, message, auth));
        if (self)
            self->settle(sessionId, name);
    };
    // Opens the client with `bearer`; a 401 on a refreshable mcp_oauth credential refreshes it
    // once (CredentialBroker, single flight) and opens again with the new token.
    auto attempt = std::make_shared<std::function<void(std::optional<CredentialBroker::McpBearer>, bool)>>();
    *attempt = [self, weak, sessionId, name, done, fail, weakAttempt = std::weak_ptr(attempt)](
                   std::optional<CredentialBroker::McpBearer> bearer, bool refreshed) {
        auto s = weak.lock();
        if (!self || !s)
            return done({});
        dropClient(s->client);
        s->client = std::make_unique<mcp::Client>(self->m_nam, QUrl(s->url), self->m_options);
        if (bearer)
            s->client->setBearer(bearer->token);
        s->client->open([self, weak, sessionId, name, done, fail, bearer, refreshed,
                         again = weakAttempt.lock()](std::variant<QList<mcp::Tool>, mcp::Error> r) {
            auto srv = weak.lock();
            if (!self || !srv)
                return done({});
            if (auto *e = std::get_if<mcp::Error>(&r)) {
                const bool auth = e->kind == mcp::Error::Kind::Auth;
                if (auth && e->httpStatus == 401 && bearer && bearer->refreshable && !refreshed && again) {
                    const QString refused = e->message;
                    return self->m_credentials.refreshMcpBearer(
                        *bearer, [again, fail, name, refused](Result<CredentialBroker::McpBearer> fresh) {
                            if (!fresh)
                                return fail(QStringLiteral("MCP server \"%1\": %2").arg(name, fresh.error().message()),
                                            true);
                            (*again)(*fresh, true);
                        });
                }
                return fail(e->message, auth);
            }
            srv->tools = std::get<QList<mcp::Tool>>(r);
            srv->state = Server::State::Ready;
            srv->lastError.clear();
            done({});
            self->settle(sessionId, name);
        });
    };
    m_credentials.mcpBearer(
        vaultIds, server->url,
        [self, weak, name, done, fail, attempt](Result<std::optional<CredentialBroker::McpBearer>> bearer) {
            if (!self || !weak.lock())
                return done({});
            if (!bearer)
                return fail(QStringLiteral("MCP server \"%1\": %2").arg(name, bearer.error().message()), true);
            (*attempt)(*bearer, false);
        });
}

void McpTools::settle(const QString &sessionId, const QString &name)
{
    std::shared_ptr<Server> server = m_servers.value(sessionId).value(name);
    if (!server)
        return;
    const auto waiters = std::exchange(server->waiters, {});
    for (const auto &w : waiters)
        w();
}

std::unique_ptr<ToolExecution> McpTools::execute(const ToolCall &call, std::function<void(ToolResult)> done)
{
    auto exec = std::make_unique<McpExecution>();
    std::weak_ptr<CallState> weakState = exec->m_state;
    QPointer<McpTools> self(this);
    // Answers on a later event-loop turn (never re-entrantly), unless cancelled first.
    auto answer = [weakState, done](ToolResult r) {
        if (auto st = weakState.lock(); st && !st->cancelled)
            done(std::move(r));
    };
    // `retried`: the server forgot its session (404, or the 400 some servers answer for an
    // unknown Mcp-Session-Id); the request was refused before it ran, so it is sent once more
    // on a new session (MCP "Session Management": the client must start a new one).
    auto run = std::make_shared<std::function<void(bool)>>();
    *run = [self, weakState, call, answer, weakRun = std::weak_ptr(run)](bool retried) {
        auto st = weakState.lock();
        if (!self || !st || st->cancelled)
            return;
        std::shared_ptr<Server> server = self->m_servers.value(call.sessionId).value(call.mcpServer);
        if (!server || server->state != Server::State::Ready || !server->client)
            return answer(ToolResult::error(
                QStringLiteral("MCP server \"%1\" is not connected%2, so the tool %3 did not run.")
                    .arg(call.mcpServer,
                         server && !server->lastError.isEmpty() ? QStringLiteral(" (%1)").arg(server->lastError)
                                                                : QString(),
                         call.name)));
        std::weak_ptr<Server> weak = server;
        st->call = server->client->callTool(
            call.name, call.input,
            [self, weak, weakState, answer, call, retried, again = weakRun.lock()](mcp::JsonResult r) {
                if (auto *e = std::get_if<mcp::Error>(&r)) {
                    auto s = weak.lock();
                    const bool sessionLost =
                        e->kind == mcp::Error::Kind::SessionExpired
                        || (e->kind == mcp::Error::Kind::Http && (e->httpStatus == 400 || e->httpStatus == 404));
                    if (sessionLost && !retried && s && self && again) {
                        s->state = Server::State::Idle; // prepare() opens a new session
                        const auto session = self->m_sessions.document(call.sessionId);
                        if (session) {
                            self->prepare(*session, false,
                                          [self, again](const McpCatalog &, const QList<QJsonObject> &) {
                                              if (self)
                                                  QTimer::singleShot(0, self, [again] { (*again)(true); });
                                          });
                            return;
                        }
                    }
                    // A connection that broke or a session the server forgot is reopened on the
                    // next running transition (prepare with retryFailed).
                    if (s
                        && (e->kind == mcp::Error::Kind::Connect || e->kind == mcp::Error::Kind::Auth || sessionLost)) {
                        s->state = Server::State::Failed;
                        s->lastError = e->message;
                    }
                    return answer(ToolResult::error(e->message));
                }
                const QJsonObject res = std::get<QJsonObject>(r);
                ToolResult result{mcp::toResultBlocks(res), res.value(QStringLiteral("isError")).toBool(false)};
                if (!self)
                    return answer(std::move(result));
                self->deliver(call, std::move(result), answer, [weakState](std::unique_ptr<ToolExecution> save) {
                    if (auto state = weakState.lock(); state && !state->cancelled)
                        state->save = std::move(save);
                });
            });
    };
    // After a restart the call may come before any model request opened the server.
    std::shared_ptr<Server> server = m_servers.value(call.sessionId).value(call.mcpServer);
    if (server && server->state == Server::State::Ready) {
        QTimer::singleShot(0, this, [run] { (*run)(false); });
    } else {
        const auto session = m_sessions.document(call.sessionId);
        if (!session) {
            QTimer::singleShot(0, this, [answer, call] {
                answer(ToolResult::error(
                    QStringLiteral("The session of MCP call %1 no longer exists.").arg(call.toolUseId)));
            });
            return exec;
        }
        prepare(*session, true, [self, run](const McpCatalog &, const QList<QJsonObject> &) {
            if (self)
                QTimer::singleShot(0, self, [run] { (*run)(false); });
        });
    }
    return exec;
}

void McpTools::deliver(const ToolCall &call, ToolResult result, const std::function<void(ToolResult)> &answer,
                       const std::function<void(std::unique_ptr<ToolExecution>)> &keep)
{
    const qsizetype max = m_resultMaxChars;
    if (mcp::resultTextChars(result.content) <= max)
        return answer(std::move(result));
    auto cut = [answer, result, max](const QString &why) {
        answer(ToolResult{mcp::truncatedResultBlocks(result.content, max, why), result.isError});
    };
    ToolExecutor *files = m_builtinTools ? &m_builtinTools() : nullptr;
    if (!files || !files->providesSandbox())
        return cut(QStringLiteral("this session has no sandbox to save it in (sandbox tools are off on this host)"));
    // The saved copy is only useful if the model can read it: the agent must offer `read` or
    // `bash` (the file tools that reach the session's VM).
    const auto session = m_sessions.document(call.sessionId);
    const ToolCatalog offered =
        ToolCatalog::fromAgent(session ? session->value(QStringLiteral("agent")).toObject() : QJsonObject());
    if (!offered.byName.contains(QStringLiteral("read")) && !offered.byName.contains(QStringLiteral("bash")))
        return cut(QStringLiteral("the agent has neither the read nor the bash tool to open a saved copy"));
    const QString path = mcp::resultSpillPath(call.toolUseId);
    ToolCall save{
        call.sessionId, call.environmentId, call.toolUseId, QStringLiteral("write"),
        QJsonObject{{QStringLiteral("file_path"), path}, {QStringLiteral("content"), mcp::resultText(result.content)}}};
    keep(files->execute(save, [answer, cut, result, path, max](const ToolResult &written) {
        if (written.isError)
            return cut(
                QStringLiteral("saving it in the session's sandbox failed (%1)").arg(mcp::resultText(written.content)));
        answer(ToolResult{mcp::spilledResultBlocks(result.content, path, max), result.isError});
    }));
}

void McpTools::releaseSession(const QString &sessionId)
{
    // Each client's destructor ends its server session (DELETE) and drops what is in flight.
    m_servers.remove(sessionId);
}

} // namespace viv
