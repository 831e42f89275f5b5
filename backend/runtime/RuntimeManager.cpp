#include "Runtime.h"

#include "RuntimeEvents.h"
#include "core/Ids.h"
#include "core/JsonFields.h"
#include "providers/ProviderSetup.h"
#include "services/EventLog.h"
#include "services/LlmVault.h"
#include "services/SessionService.h"
#include "services/CredentialBroker.h"
#include "services/ThreadService.h"

#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QSet>

#include <algorithm>
#include <utility>
namespace viv {

using namespace runtime_events;

// ---- RuntimeManager ------------------------------------------------------------------------

RuntimeManager::RuntimeManager(const DefaultProviders &providers, SessionService &sessions, EventLog &log,
                               CredentialBroker &credentials, QObject *parent)
    : QObject(parent), m_providers(providers), m_sessions(sessions), m_log(log), m_credentials(credentials),
      m_options(RuntimeOptions::fromEnvironment())
{
    // Queued, not direct: the runtime reacts after the emission that announced the user event
    // has reached every subscriber (SSE hub, GUI), so no subscriber sees the agent's answer
    // before the event that caused it.
    connect(&m_log, &EventLog::appended, this, &RuntimeManager::onAppended, Qt::QueuedConnection);
    // Archive stops work at once (before the archive call answers): the running turn ends like
    // an interrupt, queued input is dropped with a session.error saying so, nothing runs again.
    connect(&m_sessions, &SessionService::archived, this, [this](const QString &id) {
        m_archived.insert(id);
        dropThreads(id, true);
        SessionRuntime *r = m_runtimes.take(id);
        if (!r)
            r = new SessionRuntime(*this, id);
        r->archive();
        r->deleteLater();
        if (ToolExecutor *mcp = m_router.executor(Toolset::Mcp))
            mcp->releaseSession(id);
    });
    connect(&m_sessions, &SessionService::removed, this, [this](const QString &id) {
        dropThreads(id, false);
        if (SessionRuntime *r = m_runtimes.take(id)) {
            r->abandon();
            r->deleteLater();
        }
        m_router.releaseSession(id); // built-in tools (the session's VM), then MCP connections
    });
}

RuntimeManager::~RuntimeManager()
{
    for (SessionRuntime *r : std::as_const(m_runtimes))
        r->abandon();
    for (const auto &threadsOfSession : std::as_const(m_threads))
        for (SessionRuntime *t : threadsOfSession)
            t->abandon();
}

void RuntimeManager::setModelProvider(ProviderEndpoint::Kind kind, std::unique_ptr<ModelProvider> provider)
{
    (kind == ProviderEndpoint::Kind::Anthropic ? m_anthropic : m_openai) = std::move(provider);
}

void RuntimeManager::setToolExecutor(std::unique_ptr<ToolExecutor> executor)
{
    if (executor)
        m_router.install(Toolset::Builtin, std::move(executor));
}

void RuntimeManager::setMcpTools(std::unique_ptr<McpTools> mcp)
{
    if (!mcp)
        return;
    m_mcp = std::move(mcp);
    // An oversized MCP result is saved into the session's VM through the built-in tools.
    m_mcp->setBuiltinTools([this]() -> ToolExecutor & { return tools(); });
    m_router.attach(Toolset::Mcp, *m_mcp);
}

void RuntimeManager::preview(const QString &sessionId, const QString &previewedType, const QJsonObject &preview)
{
    Q_EMIT previewed(sessionId, previewedType, preview);
}

ModelProvider &RuntimeManager::provider(ProviderEndpoint::Kind kind)
{
    return kind == ProviderEndpoint::Kind::Anthropic ? *m_anthropic : *m_openai;
}

SessionRuntime *RuntimeManager::runtime(const QString &sessionId)
{
    auto it = m_runtimes.find(sessionId);
    if (it != m_runtimes.end())
        return *it;
    auto *r = new SessionRuntime(*this, sessionId);
    m_runtimes.insert(sessionId, r);
    return r;
}

void RuntimeManager::onAppended(const QString &sessionId, const QList<LoggedEvent> &events)
{
    for (const LoggedEvent &e : events) {
        const QString type = e.event.value(kType).toString();
        if (type == u"session.updated" && e.event.contains(QStringLiteral("budget"))) {
            if (!m_archived.contains(sessionId))
                runtime(sessionId)->onBudgetChanged(); // a raised budget resumes paused work
            continue;
        }
        if (type == u"session.thread_status_terminated") { // a thread archived (ThreadService)
            if (SessionRuntime *t = m_threads[sessionId].take(e.event.value(QStringLiteral("session_thread_id")).toString())) {
                t->abandon();
                t->deleteLater();
            }
            continue;
        }
        const bool report = type == u"agent.thread_message_received" && e.event.value(QStringLiteral("processed_at")).isNull();
        if (!type.startsWith(QStringLiteral("user.")) && !report)
            continue;
        if (m_archived.contains(sessionId))
            return; // archived while the announcement was queued: consumed by the archive
        if (routeThreadEvent(sessionId, e.event))
            continue; // a delegate thread's (SessionThreads.cpp)
        runtime(sessionId)->onUserEvent(e.event);
    }
}

void RuntimeManager::start()
{
    Q_ASSERT(m_anthropic && m_openai && m_mcp && m_router.executor(Toolset::Builtin)); // installRuntime
    // Crash recovery. A session whose row says running/rescheduling was mid-turn when the
    // process died. Its turn is NOT replayed: a model request may already have been billed and
    // a tool may already have changed the sandbox, so re-running either could duplicate side
    // effects. The turn is closed in the log instead — open span ended, unfinished tool calls
    // get an error result, a session.error (retry_status exhausted) says the turn was
    // interrupted by a restart — and the session goes idle with retries_exhausted. As for any
    // exhausted turn, messages queued behind it are flushed: they stay in the log and reach the
    // model as history with the client's next message (recoverSession).
    const QStringList running = m_sessions.idsInStatus({QStringLiteral("running"), QStringLiteral("rescheduling")});
    const QStringList all = m_sessions.allIds();
    // Delegate threads first (SessionThreads.cpp): running ones are closed like the primary's turn.
    for (const QString &id : all)
        recoverThreads(id, running.contains(id));
    for (const QString &id : running)
        recoverSession(id);
    for (const QString &id : all) {
        runtime(id)->restore();
        for (SessionRuntime *t : m_threads.value(id))
            t->restore();
    }
}

QList<QJsonObject> RuntimeManager::closingEvents(const QString &sessionId, const QString &toolText,
                                                 const QString &outcomeText, const QString &threadId)
{
    auto events = m_log.since(sessionId, 0);
    if (!events)
        return {};
    const QString primary = threads::primaryId(sessionId);
    events->removeIf([&](const LoggedEvent &le) {
        return !threads::inThread(le.event, threadId.isEmpty() ? primary : threadId, primary);
    });
    QString openSpan;
    QStringList openTools, openMcp;
    QJsonObject outcome;      // the last user.define_outcome, until a terminal evaluation end
    QString openEvaluation;   // its open span.outcome_evaluation_start
    int iteration = 0;
    for (const LoggedEvent &le : std::as_const(*events)) {
        const QJsonObject &e = le.event;
        const QString type = e.value(kType).toString();
        if (type == u"user.define_outcome") {
            outcome = e;
            openEvaluation.clear();
            iteration = 0;
        } else if (type == u"span.outcome_evaluation_start") {
            openEvaluation = e.value(kId).toString();
            iteration = e.value(QStringLiteral("iteration")).toInt();
        } else if (type == u"span.outcome_evaluation_end") {
            openEvaluation.clear();
            const QString result = e.value(QStringLiteral("result")).toString();
            if (result == u"needs_revision")
                iteration = e.value(QStringLiteral("iteration")).toInt() + 1;
            else
                outcome = {};
        } else if (type == u"span.model_request_start")
            openSpan = e.value(kId).toString();
        else if (type == u"span.model_request_end")
            openSpan.clear();
        else if (type == u"agent.tool_use")
            openTools << e.value(kId).toString();
        else if (type == u"agent.mcp_tool_use")
            openMcp << e.value(kId).toString();
        else if (type == u"agent.tool_result" || type == u"user.tool_result")
            openTools.removeAll(e.value(QStringLiteral("tool_use_id")).toString());
        else if (type == u"agent.mcp_tool_result")
            openMcp.removeAll(e.value(QStringLiteral("mcp_tool_use_id")).toString());
    }
    QList<QJsonObject> out;
    if (!openSpan.isEmpty())
        out.append(ev(QStringLiteral("span.model_request_end"),
                      {{QStringLiteral("model_request_start_id"), openSpan},
                       {QStringLiteral("is_error"), true},
                       {QStringLiteral("model_usage"),
                        QJsonObject{{QStringLiteral("input_tokens"), 0}, {QStringLiteral("output_tokens"), 0},
                                    {QStringLiteral("cache_read_input_tokens"), 0},
                                    {QStringLiteral("cache_creation_input_tokens"), 0}}}}));
    // Only calls that were allowed to run are closed here; calls awaiting a confirmation
    // cannot exist in a running session (it would be idle with requires_action).
    for (const QString &t : std::as_const(openTools))
        out.append(toolResult(t, false, QJsonArray{textBlocks(toolText)}, true));
    for (const QString &t : std::as_const(openMcp))
        out.append(toolResult(t, true, QJsonArray{textBlocks(toolText)}, true));
    if (!outcome.isEmpty())
        out.append(ev(QStringLiteral("span.outcome_evaluation_end"),
                      {{QStringLiteral("outcome_evaluation_start_id"), openEvaluation},
                       {QStringLiteral("outcome_id"), outcome.value(QStringLiteral("outcome_id"))},
                       {QStringLiteral("iteration"), iteration},
                       {QStringLiteral("result"), QStringLiteral("failed")},
                       {QStringLiteral("explanation"), outcomeText},
                       {QStringLiteral("usage"),
                        QJsonObject{{QStringLiteral("input_tokens"), 0}, {QStringLiteral("output_tokens"), 0},
                                    {QStringLiteral("cache_read_input_tokens"), 0},
                                    {QStringLiteral("cache_creation_input_tokens"), 0}}}}));
    return out;
}

void RuntimeManager::terminateSession(const QString &sessionId, const QString &message)
{
    if (SessionRuntime *r = m_runtimes.take(sessionId)) {
        r->abandon();
        r->deleteLater();
    }
    QList<QJsonObject> out = closingEvents(
        sessionId, QStringLiteral("The session was terminated while this tool call was in flight; it may or "
                                  "may not have run."),
        QStringLiteral("The session was terminated before this outcome was finished: %1").arg(message));
    out.append(sessionError(QStringLiteral("unknown_error"), message, QStringLiteral("terminal")));
    out.append(ev(QStringLiteral("session.status_terminated")));
    SessionService::RuntimeCommit c;
    c.events = out;
    c.status = QStringLiteral("terminated");
    if (auto r = m_sessions.commitRuntime(sessionId, c); !r)
        qCWarning(lcRuntime).noquote() << "terminating session" << sessionId << "failed:" << r.error().message();
    else
        qCInfo(lcRuntime).noquote() << "session" << sessionId << "terminated:" << message;
}

void RuntimeManager::recoverSession(const QString &sessionId)
{
    QList<QJsonObject> out = closingEvents(
        sessionId, QStringLiteral("Vivarium restarted while this tool call was in flight; it may or may not have run."),
        QStringLiteral("Vivarium stopped (crash or kill) while this outcome was in progress; it was not resumed, to "
                       "avoid repeating model requests or tool side effects. Define the outcome again to retry."));
    out.append(sessionError(QStringLiteral("unknown_error"),
                            QStringLiteral("The turn was interrupted because Vivarium stopped while it was "
                                           "running (crash or kill); it was not resumed, to avoid repeating "
                                           "model requests or tool side effects. Send a new message to continue."),
                            QStringLiteral("exhausted")));
    out.append(idle(stop(QStringLiteral("retries_exhausted"))));
    SessionService::RuntimeCommit c;
    c.events = out;
    c.status = QStringLiteral("idle");
    // retry_status "exhausted" means the turn is dead and queued inputs are flushed (official
    // semantics): messages queued behind the interrupted turn are consumed without a turn of
    // their own. They stay in the log, and the model sees them with the next message.
    if (auto queued = m_log.pending(sessionId)) {
        for (const LoggedEvent &le : std::as_const(*queued))
            if (le.event.value(kType).toString() == u"user.message"
                || (le.event.value(kType).toString() == u"agent.thread_message_received"
                    && !le.event.contains(QStringLiteral("session_thread_id")))) // a report to the coordinator
                c.processed << le.event.value(kId).toString();
    }
    if (auto r = m_sessions.commitRuntime(sessionId, c); !r)
        qCWarning(lcRuntime).noquote() << "recovery of session" << sessionId << "failed:" << r.error().message();
    else
        qCInfo(lcRuntime).noquote() << "session" << sessionId << "was running at shutdown; closed its turn";
}

void RuntimeManager::resolveEndpoint(const QJsonObject &session,
                                     const std::function<void(Result<std::pair<ProviderEndpoint, QString>>)> &done)
{
    const QJsonValue modelValue = session.value(QStringLiteral("agent")).toObject().value(QStringLiteral("model"));
    QString model = modelValue.isObject() ? modelValue.toObject().value(kId).toString() : modelValue.toString();

    std::optional<ProviderEndpoint::Kind> explicitKind;
    if (model.startsWith(QStringLiteral("anthropic/"))) {
        explicitKind = ProviderEndpoint::Kind::Anthropic;
        model = model.mid(10);
    } else if (model.startsWith(QStringLiteral("openai/"))) {
        explicitKind = ProviderEndpoint::Kind::OpenAi;
        model = model.mid(7);
    }

    // An LLM vault attached to the session overrides the environment defaults. Its metadata
    // declares it (services/LlmVault.h); the first such vault wins (services/CredentialBroker.h).
    auto vault = m_credentials.llmVault(session.value(QStringLiteral("vault_ids")).toArray());
    if (!vault)
        return done(vault.error());

    ProviderEndpoint ep;
    if (*vault) {
        const LlmVaultSpec &s = (*vault)->spec;
        ep.kind = explicitKind.value_or(s.format == LlmVaultSpec::Format::Anthropic ? ProviderEndpoint::Kind::Anthropic
                                                                                   : ProviderEndpoint::Kind::OpenAi);
        const ProviderDefaults &d = ep.kind == ProviderEndpoint::Kind::Anthropic ? m_providers.anthropic : m_providers.openai;
        ep.baseUrl = s.baseUrl.isEmpty() ? d.baseUrl : QUrl(s.baseUrl);
        ep.source = QStringLiteral("vault %1").arg((*vault)->vaultId);
    } else {
        ep.kind = explicitKind.value_or(model.startsWith(QStringLiteral("claude")) ? ProviderEndpoint::Kind::Anthropic
                                                                                : ProviderEndpoint::Kind::OpenAi);
        const ProviderDefaults &d = ep.kind == ProviderEndpoint::Kind::Anthropic ? m_providers.anthropic : m_providers.openai;
        ep.baseUrl = d.baseUrl;
        ep.apiKey = d.apiKey;
        ep.source = QStringLiteral("the default providers");
    }
    // One rule with the desktop app's first-run panel and Settings (providers/ProviderSetup.h).
    const QString vaultId = *vault ? (*vault)->vaultId : QString();
    if (endpointProblem(ep.baseUrl, QStringLiteral("-")) == EndpointProblem::NoBaseUrl)
        return done(ApiError::invalid(endpointProblemMessage(ep.kind, EndpointProblem::NoBaseUrl, vaultId)));

    auto finish = [done, model, vaultId](const ProviderEndpoint &e) {
        if (const EndpointProblem p = endpointProblem(e.baseUrl, e.apiKey); p != EndpointProblem::None)
            return done(ApiError::invalid(endpointProblemMessage(e.kind, p, vaultId)));
        // A key with a line break would add headers to the model request (stored before keys
        // were validated, or from the environment): it is never sent.
        if (!controlCharacterProblem(e.apiKey).isEmpty())
            return done(ApiError::invalid(QStringLiteral("the model key from %1 contains control characters (a line "
                                                         "break would smuggle HTTP headers); it was not sent — "
                                                         "replace the key")
                                              .arg(e.source)));
        done(std::pair<ProviderEndpoint, QString>(e, model));
    };
    if (!*vault)
        return finish(ep);
    m_credentials.modelKey(vaultId, [ep, finish, done](Result<QString> key) mutable {
        if (!key)
            return done(key.error());
        ep.apiKey = *key; // empty: a keyless endpoint (e.g. a local Ollama) is fine
        finish(ep);
    });
}

} // namespace viv
