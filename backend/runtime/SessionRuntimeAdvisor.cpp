// Advisor consultations (README "Threads", docs/DESIGN.md "Advisor"): a roster entry
// `{"type": "advisor", "model"}` gives the session's primary thread an `advisor` tool. Calling it
// spawns a platform thread named `anthropic.advisor` that reads the primary's conversation with
// the advisor model and terminates itself; its advice reaches the primary as
// agent.thread_message_received, and the primary's turn goes on. No agent.tool_use and no
// agent.thread_message_sent are written for a consultation.

#include "Runtime.h"

#include "RuntimeEvents.h"
#include "core/Ids.h"
#include "services/EventLog.h"
#include "services/SessionService.h"
#include "services/ThreadService.h"

#include <QJsonDocument>
#include <QTimer>

namespace viv {

using namespace runtime_events;

namespace {

const QString kThread = QStringLiteral("session_thread_id");
const QString kAgentName = QStringLiteral("agent_name");

const QString kAdvisorSystem = QStringLiteral(
    "You are an advisor to an AI agent that is working on a task. You are given the agent's conversation so far "
    "(its instructions, the user's messages, its own messages and its tool calls with their results). The agent "
    "has paused to consult you. Give it concise, concrete strategic guidance for what to do next: the approach "
    "to take, what to check, mistakes to avoid, or whether its work is ready. You cannot call tools and the "
    "agent will not see anything but your answer.");

QString textOf(const QJsonArray &content)
{
    QStringList parts;
    for (const QJsonValue &b : content)
        if (b.toObject().value(kType).toString() == u"text")
            parts << b.toObject().value(QStringLiteral("text")).toString();
    return parts.join(QStringLiteral("\n\n"));
}

QJsonObject onAdvisorThread(QJsonObject e, const QString &threadId)
{
    e.insert(kThread, threadId);
    return e;
}

QJsonObject advisorStatus(const QString &status, const QString &threadId, QJsonObject fields = {})
{
    fields.insert(kThread, threadId);
    fields.insert(kAgentName, threads::kAdvisorName);
    return ev(QStringLiteral("session.thread_status_") + status, fields);
}

} // namespace

QString SessionRuntime::advisorModel()
{
    if (isThread())
        return {};
    if (!m_advisorModel) {
        const auto doc = m_mgr.sessions().document(m_sessionId);
        if (!doc)
            return {};
        m_advisorModel = threads::advisorModel(doc->value(QStringLiteral("agent")).toObject());
    }
    return *m_advisorModel;
}

QJsonArray SessionRuntime::advisorTools()
{
    if (advisorModel().isEmpty())
        return {};
    return QJsonArray{QJsonObject{
        {QStringLiteral("name"), QStringLiteral("advisor")},
        {QStringLiteral("description"),
         QStringLiteral("Consult your advisor, a stronger model that reads your whole conversation so far, for "
                        "strategic guidance: planning an approach, getting unstuck, or reviewing your work before "
                        "you finish. Takes no input; its advice arrives as a message from the advisor.")},
        {QStringLiteral("input_schema"),
         QJsonObject{{kType, QStringLiteral("object")}, {QStringLiteral("properties"), QJsonObject{}}}}}};
}

void SessionRuntime::consult(QList<QJsonObject> events, const ModelUsage &usage)
{
    // The advisor reads the conversation of the request that called it, and what that response said.
    QStringList said;
    for (const QJsonObject &e : std::as_const(events))
        if (e.value(kType).toString() == u"agent.message")
            said << textOf(e.value(QStringLiteral("content")).toArray());
    if (!commit(events, {}, {}, usage))
        return;
    QJsonArray messages = m_lastMessages;
    const QString last = said.join(QStringLiteral("\n\n"));
    if (!last.isEmpty())
        messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                    {QStringLiteral("content"), QJsonArray{textBlocks(last)}}});
    m_lastMessages = messages;

    m_advisorThread = ids::make(u"sthr");
    const QString spanId = ids::make(u"sevt");
    m_spanStartId = spanId;
    if (!commit({ev(QStringLiteral("session.thread_created"), {{kThread, m_advisorThread},
                                                               {kAgentName, threads::kAdvisorName},
                                                               {QStringLiteral("workflow_run_id"), QJsonValue::Null}}),
                 advisorStatus(QStringLiteral("running"), m_advisorThread),
                 onAdvisorThread(ev(QStringLiteral("span.model_request_start"), {{kId, spanId}}), m_advisorThread)}))
        return;
    m_phase = Phase::Advising;
    m_attempt = 0;
    auto session = m_mgr.sessions().document(m_sessionId);
    if (!session)
        return abandon();
    // The advisor runs on its own model (resolved like any agent model: provider, credentials).
    QJsonObject agent = session->value(QStringLiteral("agent")).toObject();
    agent.insert(QStringLiteral("model"), QJsonObject{{kId, advisorModel()}});
    session->insert(QStringLiteral("agent"), agent);
    const quint64 gen = m_generation;
    QPointer<SessionRuntime> self(this);
    m_mgr.resolveEndpoint(*session, [self, gen](Result<std::pair<ProviderEndpoint, QString>> r) {
        if (!self || self->m_generation != gen || self->m_phase != Phase::Advising)
            return;
        if (!r) {
            ModelError e;
            e.kind = ModelError::Kind::NotConfigured;
            e.message = r.error().message();
            return self->onAdvised(e);
        }
        self->sendAdvisorRequest(r->first, r->second);
    });
}

void SessionRuntime::sendAdvisorRequest(const ProviderEndpoint &endpoint, const QString &model)
{
    m_advisorVendorModel = model;
    ModelRequest req;
    req.model = model;
    req.system = kAdvisorSystem;
    req.maxTokens = 4096;
    const QString transcript = QString::fromUtf8(QJsonDocument(m_lastMessages).toJson(QJsonDocument::Indented));
    req.messages = QJsonArray{QJsonObject{
        {QStringLiteral("role"), QStringLiteral("user")},
        {QStringLiteral("content"),
         QJsonArray{textBlocks(QStringLiteral("## The agent's conversation so far (Messages API JSON)\n%1\n\nThe agent "
                                              "asks for your advice. Answer with the advice only.")
                                   .arg(transcript))}}}};
    const quint64 gen = m_generation;
    QPointer<SessionRuntime> self(this);
    ModelSink sink;
    sink.finished = [self, gen](ModelResult result) {
        if (!self || self->m_generation != gen || self->m_phase != Phase::Advising)
            return;
        if (self->m_advisorCall) // drop the finished call after this callback returns
            QTimer::singleShot(0, self, [call = std::shared_ptr<ModelCall>(self->m_advisorCall.release())] {});
        self->onAdvised(std::move(result));
    };
    m_advisorCall = m_mgr.provider(endpoint.kind).start(endpoint, req, std::move(sink));
}

void SessionRuntime::onAdvised(ModelResult result)
{
    const QString thread = std::exchange(m_advisorThread, QString());
    ModelUsage usage;
    QList<QJsonObject> events;
    QString advice;
    if (const auto *resp = std::get_if<ModelResponse>(&result)) {
        usage = resp->usage;
        advice = textOf(resp->content);
    }
    events.append(onAdvisorThread(spanEnd(!std::holds_alternative<ModelResponse>(result), usage), thread));
    if (!advice.isEmpty())
        // Delivered on the primary thread (no session_thread_id), read by its model in place.
        events.append(ev(QStringLiteral("agent.thread_message_received"),
                         {{QStringLiteral("from_session_thread_id"), thread},
                          {QStringLiteral("from_agent_name"), threads::kAdvisorName},
                          {QStringLiteral("content"), QJsonArray{textBlocks(advice)}}}));
    // A failed consultation never fails the turn: the thread ends and the agent reads a notice
    // (ownView) instead of advice.
    events.append(advisorStatus(QStringLiteral("idle"), thread,
                                {{QStringLiteral("stop_reason"), stop(QStringLiteral("end_turn"))},
                                 {QStringLiteral("stop_details"), QJsonValue::Null}}));
    events.append(advisorStatus(QStringLiteral("terminated"), thread));
    // The consultation is billed at the advisor model's price.
    const QString own = std::exchange(m_model, m_advisorVendorModel);
    const bool ok = commit(events, {}, {}, usage);
    m_model = own;
    if (!ok)
        return;
    resumeAfterAdvice({});
}

void SessionRuntime::resumeAfterAdvice(const QList<QJsonObject> &events, const QStringList &processed)
{
    if ((!events.isEmpty() || !processed.isEmpty()) && !commit(events, {}, processed))
        return;
    m_attempt = 0;
    if (m_order.isEmpty()) // the response's other calls (if any) run now, else the next request
        return requestModel();
    runTools(m_toRun);
}

bool SessionRuntime::interruptAdvisor(const QString &threadId, const QString &interruptEventId)
{
    if (threadId.isEmpty() || isThread())
        return false;
    if (m_phase != Phase::Advising || threadId != m_advisorThread) {
        // A consultation that is over: its thread is terminated, so the interrupt is a no-op.
        bool finished = false;
        if (auto created = m_mgr.log().ofTypes(m_sessionId, {QStringLiteral("session.thread_created")}))
            for (const QJsonObject &c : std::as_const(*created))
                finished = finished
                           || (c.value(kThread).toString() == threadId
                               && c.value(kAgentName).toString() == threads::kAdvisorName);
        if (finished)
            commit({}, {}, {interruptEventId});
        return finished;
    }
    ++m_generation; // the consultation's answer is now stale
    if (m_advisorCall) {
        m_advisorCall->cancel();
        m_advisorCall.reset();
    }
    QList<QJsonObject> events = closeAdvisor();
    // closeAdvisor() ends the span and reports `terminated`; an abandoned consultation goes idle first.
    events.insert(1, advisorStatus(QStringLiteral("idle"), threadId,
                                   {{QStringLiteral("stop_reason"), stop(QStringLiteral("end_turn"))},
                                    {QStringLiteral("stop_details"), QJsonValue::Null}}));
    resumeAfterAdvice(events, {interruptEventId});
    return true;
}

QList<QJsonObject> SessionRuntime::closeAdvisor()
{
    const QString thread = std::exchange(m_advisorThread, QString());
    if (thread.isEmpty())
        return {};
    return {onAdvisorThread(spanEnd(true, {}), thread), advisorStatus(QStringLiteral("terminated"), thread)};
}

} // namespace viv
