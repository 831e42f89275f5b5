#include "Runtime.h"
#include "SkillsPrompt.h"

#include "RuntimeEvents.h"
#include "core/Ids.h"
#include "core/JsonFields.h"
#include "providers/ProviderSetup.h"
#include "services/EventLog.h"
#include "services/LlmVault.h"
#include "services/SessionService.h"
#include "services/PriceTable.h"
#include "services/SessionBudget.h"
#include "services/CredentialBroker.h"

#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QSet>

#include <algorithm>
#include <utility>

Q_LOGGING_CATEGORY(lcRuntime, "vivarium.runtime")

namespace viv {

namespace {

int envInt(const char *name, int fallback)
{
    bool ok = false;
    const int v = qEnvironmentVariableIntValue(name, &ok);
    return ok && v >= 0 ? v : fallback;
}

} // namespace

using namespace runtime_events;

RuntimeOptions RuntimeOptions::fromEnvironment()
{
    RuntimeOptions o;
    o.maxRetries = envInt("VIVARIUM_MODEL_MAX_RETRIES", o.maxRetries);
    o.retryBaseMs = envInt("VIVARIUM_MODEL_RETRY_BASE_MS", o.retryBaseMs);
    o.timeouts.firstByteMs = envInt("VIVARIUM_MODEL_TIMEOUT_MS", o.timeouts.firstByteMs);
    o.timeouts.idleMs = envInt("VIVARIUM_MODEL_IDLE_TIMEOUT_MS", o.timeouts.idleMs);
    o.outcomeHeartbeatMs = qMax(100, envInt("VIVARIUM_OUTCOME_HEARTBEAT_MS", o.outcomeHeartbeatMs));
    o.beforeIdleTimeoutMs = qMax(0, envInt("VIVARIUM_BEFORE_IDLE_TIMEOUT_MS", o.beforeIdleTimeoutMs));
    return o;
}

// ---- SessionRuntime ------------------------------------------------------------------------

SessionRuntime::SessionRuntime(RuntimeManager &manager, QString sessionId, QString threadId, QString agentName)
    : QObject(&manager), m_mgr(manager), m_sessionId(std::move(sessionId)), m_threadId(std::move(threadId)),
      m_agentName(std::move(agentName))
{
    m_backoff.setSingleShot(true);
    connect(&m_backoff, &QTimer::timeout, this, [this] {
        if (m_phase != Phase::Backoff)
            return;
        if (!commit({ev(QStringLiteral("session.status_running"))}, QStringLiteral("running")))
            return;
        m_running_since.start();
        requestModel();
    });
    connect(&m_heartbeat, &QTimer::timeout, this, [this] {
        if (m_phase != Phase::Grading || !m_outcome)
            return m_heartbeat.stop();
        commit({ev(QStringLiteral("span.outcome_evaluation_ongoing"),
                   {{QStringLiteral("outcome_id"), m_outcome->id}, {QStringLiteral("iteration"), m_outcome->iteration}})});
    });
    m_clock.start();
}

SessionRuntime::~SessionRuntime()
{
    abandon();
}

void SessionRuntime::abandon()
{
    ++m_generation;
    cancelInFlight();
    m_queue.clear();
    m_pending.clear();
}

void SessionRuntime::cancelInFlight()
{
    m_backoff.stop();
    m_heartbeat.stop();
    if (m_call) {
        m_call->cancel();
        m_call.reset();
    }
    if (m_graderCall) {
        m_graderCall->cancel();
        m_graderCall.reset();
    }
    if (m_compactCall) {
        m_compactCall->cancel();
        m_compactCall.reset();
    }
    if (m_advisorCall) {
        m_advisorCall->cancel();
        m_advisorCall.reset();
    }
    m_compacting.reset();
    m_settling.reset(); // the hooks' answer is stale (m_generation moved on); their work goes on
    m_compactedForRequest = false;
    for (const auto &t : std::as_const(m_running))
        t->cancel();
    m_running.clear();
}

double SessionRuntime::takeActiveSeconds()
{
    if (!m_running_since.isValid())
        return 0;
    const double s = m_running_since.nsecsElapsed() / 1e9;
    m_running_since.invalidate();
    return s;
}

bool SessionRuntime::commit(QList<QJsonObject> events, const QString &status, QStringList processed,
                            const ModelUsage &usage)
{
    QString rowStatus = status;
    shapeForThreads(events, rowStatus);
    SessionService::RuntimeCommit c;
    c.events = std::move(events);
    c.status = rowStatus;
    c.processed = std::move(processed);
    c.inputTokens = usage.inputTokens;
    c.outputTokens = usage.outputTokens;
    c.cacheReadInputTokens = usage.cacheReadInputTokens;
    c.cacheCreationInputTokens = usage.cacheCreationInputTokens;
    c.listCostNano = costOf(usage);
    if (rowStatus == u"idle" || rowStatus == u"rescheduling" || ((status == u"idle" || status == u"rescheduling") && isThread()))
        c.activeSeconds = takeActiveSeconds();
    auto r = m_mgr.sessions().commitRuntime(m_sessionId, c);
    if (!r) {
        // The session is gone (deleted) or the store failed: stop this runtime's work.
        qCWarning(lcRuntime).noquote() << "session" << m_sessionId << "runtime commit failed:" << r.error().message();
        ++m_generation;
        cancelInFlight();
        m_phase = Phase::Idle;
        return false;
    }
    return true;
}

QJsonObject SessionRuntime::spanEnd(bool isError, const ModelUsage &u) const
{
    return ev(QStringLiteral("span.model_request_end"),
              {{QStringLiteral("model_request_start_id"), m_spanStartId},
               {QStringLiteral("is_error"), isError},
               {QStringLiteral("model_usage"),
                QJsonObject{{QStringLiteral("input_tokens"), double(u.inputTokens)},
                            {QStringLiteral("output_tokens"), double(u.outputTokens)},
                            {QStringLiteral("cache_read_input_tokens"), double(u.cacheReadInputTokens)},
                            {QStringLiteral("cache_creation_input_tokens"), double(u.cacheCreationInputTokens)}}}});
}

void SessionRuntime::onUserEvent(const QJsonObject &e)
{
    const QString type = e.value(kType).toString();
    const QString id = e.value(kId).toString();
    if (type == u"user.interrupt") {
        interrupt(id);
    } else if (type == u"user.message" || type == u"user.define_outcome" || type == u"agent.thread_message_received") {
        m_queue.append(e);
        pump();
    } else if (type == u"user.tool_confirmation" || type == u"user.custom_tool_result" || type == u"user.tool_result") {
        const bool confirmation = type == u"user.tool_confirmation";
        const QString target = e.value(type == u"user.custom_tool_result" ? QStringLiteral("custom_tool_use_id")
                                                                          : QStringLiteral("tool_use_id")).toString();
        auto it = m_pending.find(target);
        const bool applies = it != m_pending.end() && !it->resolved
                             && (confirmation ? !it->custom : it->custom || type == u"user.tool_result");
        if (!applies) {
            // Nothing waits for it (already answered, interrupted, or not an asking tool): a
            // confirmation is consumed without effect; results are processed on receipt anyway.
            if (confirmation)
                commit({}, {}, {id});
            return;
        }
        it->resolved = true;
        if (confirmation) {
            it->allow = e.value(QStringLiteral("result")).toString() == u"allow";
            it->denyMessage = e.value(QStringLiteral("deny_message")).toString();
            it->decisionEventId = id;
            if (it->allow && e.value(QStringLiteral("vivarium_scope")).toString() == u"session") {
                // Allowed for the rest of the session: this tool's other waiting calls too.
                m_sessionAllowed.insert(it->name, id);
                for (Pending &p : m_pending)
                    if (!p.custom && !p.resolved && p.name == it->name)
                        p = Pending{false, p.name, p.input, true, true, {}, id};
            }
        }
        if (m_phase == Phase::AwaitingAction) {
            const QStringList waiting = unresolved();
            if (waiting.isEmpty())
                continueAfterActions();
            else if (!m_restoring)
                // Official semantics: resolving fewer than all re-emits the idle with the rest.
                commit({idle(requiresAction(waiting))}, QStringLiteral("idle"));
        }
    }
}

QStringList SessionRuntime::unresolved() const
{
    QStringList waiting;
    for (const QString &id : std::as_const(m_order)) {
        auto it = m_pending.constFind(id);
        if (it != m_pending.constEnd() && !it->resolved)
            waiting << id;
    }
    return waiting;
}

void SessionRuntime::pump()
{
    if (m_phase != Phase::Idle || m_queue.isEmpty())
        return;
    // A session at its budget starts nothing new; raising the budget pumps again (onBudgetChanged).
    if (const auto doc = m_mgr.sessions().document(m_sessionId); doc && budget::reached(*doc))
        return;
    startTurn(m_queue.takeFirst());
}

void SessionRuntime::startTurn(const QJsonObject &message)
{
    if (message.value(kType).toString() == u"user.define_outcome")
        return startOutcome(message);
    m_pending.clear();
    m_order.clear();
    m_attempt = 0;
    // The turn's first request build (bench) includes this commit: it is backend work between
    // the message and the request leaving.
    const qint64 turnStartNs = m_clock.nsecsElapsed();
    if (!commit({ev(QStringLiteral("session.status_running"))}, QStringLiteral("running"),
                {message.value(kId).toString()}))
        return;
    m_running_since.start();
    m_mcpRetry = true;
    requestModel(turnStartNs);
}

void SessionRuntime::requestModel(qint64 buildFromNs)
{
    if (pausedAtBudget(Resume::Model))
        return;
    m_phase = Phase::Resolving;
    // Request build time (bench): from here (or the turn's start, for its first request) until
    // the request is handed to the network, minus any wait for the keychain (an LLM vault's
    // token is read asynchronously).
    m_buildNs = 0;
    m_buildFromNs = buildFromNs >= 0 ? buildFromNs : m_clock.nsecsElapsed();
    auto session = sessionDoc();
    if (!session)
        return abandon();
    const quint64 gen = m_generation;
    QPointer<SessionRuntime> self(this);
    m_mgr.resolveEndpoint(*session, [self, gen](Result<std::pair<ProviderEndpoint, QString>> r) {
        if (!self || self->m_generation != gen || self->m_phase != Phase::Resolving)
            return;
        if (!r) {
            ModelError e;
            e.kind = ModelError::Kind::NotConfigured;
            e.message = r.error().message();
            return self->failTurn(e);
        }
        // The session's MCP servers are opened lazily here; one that fails adds a session.error
        // and the turn goes on without it.
        const auto doc = self->m_mgr.sessions().document(self->m_sessionId);
        if (!doc)
            return self->abandon();
        self->m_mgr.mcp().prepare(
            *doc, std::exchange(self->m_mcpRetry, false),
            [self, gen, endpoint = r->first, model = r->second](const McpCatalog &, const QList<QJsonObject> &errors) {
                if (!self || self->m_generation != gen || self->m_phase != Phase::Resolving)
                    return;
                if (!errors.isEmpty() && !self->commit(errors))
                    return;
                self->sendModelRequest(endpoint, model);
            });
    });
    if (self && m_phase == Phase::Resolving && m_buildFromNs >= 0) {
        // Resolution went asynchronous: the wait is not backend work; sendModelRequest resumes.
        m_buildNs += m_clock.nsecsElapsed() - m_buildFromNs;
        m_buildFromNs = -1;
    }
}

void SessionRuntime::sendModelRequest(const ProviderEndpoint &endpoint, const QString &model)
{
    if (m_buildFromNs < 0)
        m_buildFromNs = m_clock.nsecsElapsed();
    m_model = model;
    auto session = sessionDoc();
    auto events = m_mgr.log().since(m_sessionId, 0);
    if (!session || !events)
        return abandon();
    multiagent();
    advisorModel();
    *events = ownView(*events);
    const QJsonObject agent = session->value(QStringLiteral("agent")).toObject();
    // A queued user.message joins the conversation where the runtime consumed it, not where
    // it was logged (it may have been sent while an earlier turn was still running).
    const QHash<QString, qint64> consumed = m_mgr.log().consumedAt(m_sessionId);
    QList<std::pair<double, QJsonObject>> ordered;
    ordered.reserve(events->size());
    for (const LoggedEvent &e : std::as_const(*events)) {
        double pos = double(e.seq);
        const QString type = e.event.value(kType).toString();
        if ((type == u"user.message" && !e.event.value(QStringLiteral("vivarium_inline")).toBool()) // advice: in place
            || type == u"user.define_outcome") { // the outcome: where its work began
            const auto at = consumed.constFind(e.event.value(kId).toString());
            if (at == consumed.constEnd())
                continue; // still queued
            pos = double(*at) - 0.5;
        }
        ordered.append({pos, e.event});
    }
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
    ModelRequest req;
    req.model = model;
    const ToolCatalog tools = ToolCatalog::fromAgent(agent, m_mgr.mcp().catalog(m_sessionId));
    // The skills' files are in the VM (SessionSandboxSetup) when built-in tools run there; the
    // model can read them with `read` or `bash`.
    const bool skillFilesReadable = m_mgr.tools().providesSandbox()
                                    && (tools.byName.contains(QStringLiteral("read")) || tools.byName.contains(QStringLiteral("bash")));
    req.system = systemWithSkills(agent.value(QStringLiteral("system")).toString(), m_mgr.sessions().skills(),
                                  agent.value(QStringLiteral("skills")).toArray(), skillFilesReadable);
    // The memory mounts (session resources live beside the document: the presented session).
    if (auto presented = m_mgr.sessions().retrieve(m_sessionId))
        req.system = systemWithMemory(req.system, presented->value(QStringLiteral("resources")).toArray());
    // Context compaction (SessionRuntimeCompaction.cpp): the latest compaction's summary stands
    // in for the turns it covers; a request near the model's window is compacted first.
    const auto compacted = isThread() ? decltype(compaction::latest(m_mgr.log().database(), m_sessionId, ordered)){}
                                      : compaction::latest(m_mgr.log().database(), m_sessionId, ordered);
    req.messages = buildConversation(compaction::view(ordered, compacted));
    auto offered = modelTools({{QStringLiteral("the agent's tools and MCP servers"), tools.definitions},
                               {QStringLiteral("the delegation tools of a coordinator"), delegationTools()},
                               {QStringLiteral("the advisor"), advisorTools()}});
    if (!offered) {
        ModelError e; // no request went out: the turn ends with a session.error saying why
        e.kind = ModelError::Kind::NotConfigured;
        e.message = offered.error().message();
        return failTurn(e);
    }
    req.tools = *offered;
    m_lastMessages = req.messages;
    // Delegate threads are not compacted yet: a compaction is recorded per session, and the
    // primary's view is the one it summarises.
    if (!isThread() && compactIfNeeded(endpoint, model, req, ordered, compacted))
        return;

    const QString spanId = ids::make(u"sevt");
    m_spanStartId = spanId;
    m_previewIds.clear();
    m_previewText.clear();
    m_thinkingId.clear();
    m_phase = Phase::Model;
    m_lastByteNs = -1;

    const quint64 gen = m_generation;
    QPointer<SessionRuntime> self(this);
    ModelSink sink;
    sink.textStarted = [self, gen](int index) {
        if (!self || self->m_generation != gen)
            return;
        const QString id = ids::make(u"sevt");
        self->m_previewIds.insert(index, id);
        if (!self->isThread()) // previews are thread-scoped: never on the session stream
            self->m_mgr.preview(self->m_sessionId, QStringLiteral("agent.message"),
                            QJsonObject{{kType, QStringLiteral("event_start")},
                                        {QStringLiteral("event"),
                                         QJsonObject{{kType, QStringLiteral("agent.message")}, {kId, id}}}});
    };
    sink.textDelta = [self, gen](int index, const QString &text) {
        if (!self || self->m_generation != gen)
            return;
        const QString id = self->m_previewIds.value(index);
        if (id.isEmpty())
            return;
        if (!self->isThread()) // previews are thread-scoped: never on the session stream
            self->m_previewText[index] += text; // kept if the request is cut (closeTurn)
        if (!self->isThread())
            self->m_mgr.preview(
            self->m_sessionId, QStringLiteral("agent.message"),
            QJsonObject{{kType, QStringLiteral("event_delta")},
                        {QStringLiteral("event_id"), id},
                        {QStringLiteral("delta"), QJsonObject{{kType, QStringLiteral("content_delta")},
                                                              {QStringLiteral("index"), 0},
                                                              {QStringLiteral("content"), textBlocks(text)}}}});
    };
    sink.thinkingStarted = [self, gen] {
        if (!self || self->m_generation != gen || !self->m_thinkingId.isEmpty())
            return;
        self->m_thinkingId = ids::make(u"sevt");
        if (!self->isThread()) // previews are thread-scoped: never on the session stream
            self->m_mgr.preview(self->m_sessionId, QStringLiteral("agent.thinking"),
                            QJsonObject{{kType, QStringLiteral("event_start")},
                                        {QStringLiteral("event"),
                                         QJsonObject{{kType, QStringLiteral("agent.thinking")},
                                                     {kId, self->m_thinkingId}}}});
    };
    sink.finished = [self, gen](ModelResult result) {
        if (!self || self->m_generation != gen)
            return;
        self->m_lastByteNs = self->m_clock.nsecsElapsed();
        // The call object finished; drop it after this callback returns.
        if (self->m_call)
            QTimer::singleShot(0, self, [call = std::shared_ptr<ModelCall>(self->m_call.release())] {});
        self->onModelFinished(std::move(result));
    };
    m_call = m_mgr.provider(endpoint.kind).start(endpoint, req, std::move(sink));
    m_buildNs += m_clock.nsecsElapsed() - m_buildFromNs;
    m_buildFromNs = -1;
    // The span start is committed while the request is on its way (the network runs on Qt's
    // HTTP thread), so the fsync is not on the request's critical path. It is still durable
    // and fanned out before any part of the response is handled: sink callbacks run on this
    // thread, after this function has returned. A crash in between leaves a running session
    // without an open span, which recovery closes like any interrupted turn. On failure
    // commit() cancels the call.
    commit({ev(QStringLiteral("span.model_request_start"), {{kId, spanId}})});
}

void SessionRuntime::onModelFinished(ModelResult result)
{
    if (auto *error = std::get_if<ModelError>(&result))
        return onModelError(*error);
    const ModelResponse &resp = std::get<ModelResponse>(result);
    const ToolCatalog tools =
        ToolCatalog::fromAgent(sessionDoc().value_or(QJsonObject{}).value(QStringLiteral("agent")).toObject(),
                               m_mgr.mcp().catalog(m_sessionId));

    QList<QJsonObject> events;
    QList<QJsonObject> results; // immediate tool results (refused calls)
    m_order.clear();
    m_toRun.clear();
    m_pending.clear();
    m_calls.clear();
    int index = -1;
    bool advise = false; // the primary consults its advisor (SessionRuntimeAdvisor.cpp)
    for (const QJsonValue &v : resp.content) {
        ++index;
        const QJsonObject b = v.toObject();
        const QString type = b.value(kType).toString();
        if (type == u"thinking" || type == u"redacted_thinking") {
            QJsonObject e = ev(QStringLiteral("agent.thinking"));
            if (!m_thinkingId.isEmpty())
                e.insert(kId, std::exchange(m_thinkingId, QString()));
            events.append(e);
        } else if (type == u"text") {
            const QString text = b.value(QStringLiteral("text")).toString();
            if (text.isEmpty())
                continue;
            QJsonObject e = ev(QStringLiteral("agent.message"),
                               {{QStringLiteral("content"), QJsonArray{textBlocks(text)}}});
            if (const QString id = m_previewIds.value(index); !id.isEmpty())
                e.insert(kId, id);
            events.append(e);
        } else if (type == u"tool_use") {
            const QString id = ids::make(u"sevt");
            const QString name = b.value(QStringLiteral("name")).toString();
            const QJsonObject input = b.value(QStringLiteral("input")).toObject();
            const auto policy = tools.byName.constFind(name);
            if (policy == tools.byName.constEnd() && name == u"advisor" && !advisorModel().isEmpty()) {
                advise = true; // no agent.tool_use for a consultation
                continue;
            }
            if (policy == tools.byName.constEnd() && delegate(name, input, events, results))
                continue; // list_agents / send_to_agent (SessionThreads.cpp)
            if (policy != tools.byName.constEnd() && policy->kind == ToolPolicy::Kind::Custom) {
                events.append(ev(QStringLiteral("agent.custom_tool_use"),
                                 {{kId, id}, {QStringLiteral("name"), name}, {QStringLiteral("input"), input}}));
                m_pending.insert(id, Pending{true, name, input, false, false, {}, {}});
                m_order << id;
                continue;
            }
            if (policy == tools.byName.constEnd()) {
                events.append(ev(QStringLiteral("agent.tool_use"),
                                 {{kId, id}, {QStringLiteral("name"), name}, {QStringLiteral("input"), input},
                                  {QStringLiteral("evaluated_permission"), QStringLiteral("deny")}}));
                results.append(ev(QStringLiteral("agent.tool_result"),
                                  {{QStringLiteral("tool_use_id"), id},
                                   {QStringLiteral("is_error"), true},
                                   {QStringLiteral("content"),
                                    QJsonArray{textBlocks(QStringLiteral("Tool \"%1\" is not enabled for this agent.").arg(name))}}}));
                continue;
            }
            const bool mcp = policy->kind == ToolPolicy::Kind::Mcp;
            ToolPolicy::Decision decision = policy->decide(name); // runtime/ToolCatalog.h
            QString &permission = decision.permission;
            QJsonObject &evaluation = decision.evaluation;
            if (const QString by = m_sessionAllowed.value(name); permission == u"ask" && !by.isEmpty()) {
                // A session-level override (vivarium_scope "session") resolves this to always_allow.
                permission = QStringLiteral("allow");
                evaluation = QJsonObject{{kType, QStringLiteral("always_allow")},
                                         {QStringLiteral("vivarium_allowed_by"), by}};
            }
            QJsonObject use{{kId, id},
                            {QStringLiteral("name"), mcp ? policy->tool : name},
                            {QStringLiteral("input"), input},
                            {QStringLiteral("evaluated_permission"), permission},
                            {QStringLiteral("evaluation"), evaluation}};
            if (mcp)
                use.insert(QStringLiteral("mcp_server_name"), policy->server);
            events.append(ev(mcp ? QStringLiteral("agent.mcp_tool_use") : QStringLiteral("agent.tool_use"), use));
            m_calls.insert(id, ToolCall{m_sessionId,
                                        m_mgr.sessions()
                                            .document(m_sessionId)
                                            .value_or(QJsonObject{})
                                            .value(QStringLiteral("environment_id"))
                                            .toString(),
                                        id, mcp ? policy->tool : name, input, mcp ? policy->server : QString(),
                                        policy->kind});
            m_order << id;
            if (permission == u"allow")
                m_toRun << id;
            else
                m_pending.insert(id, Pending{false, name, input, false, false, {}, {}});
        }
    }
    events.append(spanEnd(false, resp.usage));
    events.append(results);
    if (advise)
        return consult(events, resp.usage);
    if (m_order.isEmpty() && results.isEmpty()) {
        // No tool call at all: the turn ends. The response events, the span end and the idle
        // go into ONE commit (one fsync on the way from the last byte to idle).
        return endTurn(stop(resp.stopReason == u"refusal" ? QStringLiteral("refusal") : QStringLiteral("end_turn")),
                       events, resp.usage);
    }
    if (!commit(events, {}, {}, resp.usage))
        return;

    if (m_order.isEmpty()) // only refused calls: their error results loop back to the model
        return requestModel();
    runTools(m_toRun);
}

void SessionRuntime::runTools(const QList<QString> &toolUseIds)
{
    if (toolUseIds.isEmpty())
        return afterTools();
    m_phase = Phase::Tools;
    const quint64 gen = m_generation;
    for (const QString &id : toolUseIds) {
        QPointer<SessionRuntime> self(this);
        // Built-in tools run in the session's VM, MCP tools on their server (runtime/ToolRouter.h).
        auto exec = m_mgr.router().execute(m_calls.value(id), [self, gen, id](const ToolResult &r) {
            if (!self || self->m_generation != gen)
                return;
            self->onToolDone(id, r);
        });
        m_running.insert(id, std::shared_ptr<ToolExecution>(exec.release()));
    }
}

void SessionRuntime::onToolDone(const QString &toolUseId, const ToolResult &result)
{
    if (!m_running.contains(toolUseId))
        return;
    // Keep the execution object alive until this callback has returned.
    QTimer::singleShot(0, this, [keep = m_running.take(toolUseId)] {});
    const QJsonObject e =
        toolResult(toolUseId, m_calls.value(toolUseId).toolset == Toolset::Mcp, result.content, result.isError);
    if (!commit({e}))
        return;
    if (m_running.isEmpty())
        afterTools();
}

void SessionRuntime::afterTools()
{
    const QStringList waiting = unresolved();
    if (waiting.isEmpty() && !m_pending.isEmpty())
        return continueAfterActions(); // every answer arrived while tools ran
    if (waiting.isEmpty())
        return requestModel();
    // Waiting for the client: the VM's work so far is settled first (before-idle hooks). An
    // answer that arrives meanwhile is applied when the hooks are done (finishSettling).
    GoIdle g;
    g.idleEvents = [this] { return QList<QJsonObject>{idle(requiresAction(unresolved()))}; };
    g.target = Phase::AwaitingAction;
    g.after = [this] { measure(); };
    goIdle(std::move(g));
}

void SessionRuntime::continueAfterActions()
{
    // Every pending action is answered: denied calls get their error result, allowed ones run.
    QList<QJsonObject> events;
    QStringList processed;
    QStringList run;
    for (const QString &id : std::as_const(m_order)) {
        auto it = m_pending.constFind(id);
        if (it == m_pending.constEnd() || it->custom)
            continue;
        processed << it->decisionEventId;
        if (it->allow) {
            run << id;
        } else {
            const QString msg = it->denyMessage.isEmpty()
                                    ? QStringLiteral("The user denied permission to run this tool.")
                                    : QStringLiteral("The user denied permission to run this tool: %1").arg(it->denyMessage);
            events.append(toolResult(id, m_calls.value(id).toolset == Toolset::Mcp, QJsonArray{textBlocks(msg)}, true));
        }
    }
    processed.removeAll(QString());
    processed.removeDuplicates(); // one session-scoped allow can answer several calls
    const bool wasIdle = m_phase == Phase::AwaitingAction;
    if (wasIdle) {
        events.prepend(ev(QStringLiteral("session.status_running")));
        m_mcpRetry = true;
    }
    if (!commit(events, wasIdle ? QStringLiteral("running") : QString(), processed))
        return;
    if (wasIdle)
        m_running_since.start();
    m_pending.clear();
    m_order.clear();
    if (run.isEmpty())
        return requestModel();
    runTools(run);
}

void SessionRuntime::onModelError(const ModelError &error)
{
    m_call.reset();
    const bool retry = error.retryable() && m_attempt < m_mgr.options().maxRetries;
    QList<QJsonObject> events{spanEnd(true, {})};
    if (!retry) {
        m_previewIds.clear();
        m_previewText.clear();
        QJsonObject e = sessionError(error.errorType(), error.message, QStringLiteral("exhausted"));
        events.append(e);
        return endTurn(stop(QStringLiteral("retries_exhausted")), events);
    }
    events.append(sessionError(error.errorType(), error.message, QStringLiteral("retrying")));
    events.append(ev(QStringLiteral("session.status_rescheduled")));
    if (!commit(events, QStringLiteral("rescheduling")))
        return;
    const RuntimeOptions &o = m_mgr.options();
    qint64 delay = qint64(o.retryBaseMs) << qMin(m_attempt, 20);
    delay = qMin<qint64>(delay, o.retryMaxMs);
    delay += QRandomGenerator::global()->bounded(qMax(1, int(delay / 4) + 1)); // jitter
    if (error.retryAfterMs >= 0)
        delay = qMin<qint64>(qMax<qint64>(delay, error.retryAfterMs), o.retryMaxMs);
    ++m_attempt;
    m_phase = Phase::Backoff;
    m_backoff.start(int(delay));
}

void SessionRuntime::failTurn(const ModelError &error)
{
    // Before any request went out (no provider, no key): no span, the turn ends at once.
    endTurn(stop(QStringLiteral("retries_exhausted")),
            {sessionError(error.errorType(), error.message, QStringLiteral("exhausted"))});
}

void SessionRuntime::endTurn(const QJsonObject &stopReason, QList<QJsonObject> extra, const ModelUsage &usage)
{
    const QString reasonType = stopReason.value(kType).toString();
    const bool natural = reasonType == u"end_turn" || reasonType == u"refusal";
    if (m_outcome && outcomeAfterTurn(extra, usage, natural))
        return; // the grader takes over (SessionRuntimeOutcome.cpp)
    // A delegate's report to the coordinator goes with its idle, after the before-idle hooks:
    // what it wrote in the shared VM is settled when the coordinator reads the report.
    QList<QJsonObject> report;
    if (isThread()) {
        QList<QJsonObject> withReport = extra;
        reportToCoordinator(withReport, stopReason);
        report = withReport.mid(extra.size());
    }
    QStringList flushed;
    if (stopReason.value(kType).toString() == u"retries_exhausted") {
        // retry_status "exhausted": the turn is dead and queued inputs are flushed (official
        // semantics). They stay in the log and in the history the model sees next turn. A queued
        // outcome ends `failed` (it is not left pending for ever).
        extra.append(dropOutcomes(QStringLiteral("failed"),
                                  QStringLiteral("The turn before this outcome failed (retries exhausted), which "
                                                 "flushes queued input; the outcome was not started.")));
        for (const QJsonObject &q : std::as_const(m_queue))
            flushed << q.value(kId).toString();
        m_queue.clear();
    }
    m_pending.clear();
    m_order.clear();
    GoIdle g;
    g.events = std::move(extra);
    g.processed = flushed;
    g.usage = usage;
    const auto doc = m_mgr.sessions().document(m_sessionId);
    if (doc && budget::capNano(*doc)) {
        // A session with a budget reports its running cost (session.usage) right before each idle;
        // a turn whose last request reached the budget ends budget_reached (README "Budgets").
        g.split = true;
        g.idleEvents = [this, before = *doc, natural, stopReason, report] {
            const auto after = m_mgr.sessions().document(m_sessionId).value_or(before);
            const QJsonObject reason =
                natural && budget::reached(after) ? stop(QStringLiteral("budget_reached")) : stopReason;
            return report + QList<QJsonObject>{budget::usageEvent(after), idle(reason)};
        };
    } else {
        g.idleEvents = [stopReason, report] { return report + QList<QJsonObject>{idle(stopReason)}; };
    }
    g.after = [this] {
        measure();
        QTimer::singleShot(0, this, &SessionRuntime::pump);
    };
    goIdle(std::move(g));
}

void SessionRuntime::measure()
{
    if (m_lastByteNs < 0)
        return;
    const qint64 tail = m_clock.nsecsElapsed() - m_lastByteNs;
    m_lastByteNs = -1;
    Q_EMIT m_mgr.turnMeasured(m_sessionId, m_buildNs, tail);
}

} // namespace viv
