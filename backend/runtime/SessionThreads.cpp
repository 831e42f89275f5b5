// Multiagent threads (docs/DESIGN.md "Threads"): a coordinator's delegation tools, delegate
// thread runtimes, the session-level status derived from every thread, routing and recovery.

#include "Runtime.h"

#include "RuntimeEvents.h"
#include "core/Ids.h"
#include "services/EventLog.h"
#include "services/SessionService.h"
#include "services/ThreadService.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSet>

Q_DECLARE_LOGGING_CATEGORY(lcRuntime)

namespace viv {

using namespace runtime_events;

namespace {

const QString kThread = QStringLiteral("session_thread_id");
const QString kListAgents = QStringLiteral("list_agents");
const QString kSendToAgent = QStringLiteral("send_to_agent");
constexpr int kMaxThreads = 25; // concurrent delegate threads per session (official limit)

QString textOf(const QJsonArray &content)
{
    QStringList parts;
    for (const QJsonValue &b : content)
        if (b.toObject().value(kType).toString() == u"text")
            parts << b.toObject().value(QStringLiteral("text")).toString();
    return parts.join(QStringLiteral("\n\n"));
}

QJsonObject toolResult(const QString &toolUseId, const QString &text, bool isError)
{
    QJsonObject r = ev(QStringLiteral("agent.tool_result"),
                       {{QStringLiteral("tool_use_id"), toolUseId}, {QStringLiteral("content"), QJsonArray{textBlocks(text)}}});
    if (isError)
        r.insert(QStringLiteral("is_error"), true);
    return r;
}

} // namespace

// ---- SessionRuntime -----------------------------------------------------------------------

bool SessionRuntime::multiagent()
{
    if (!m_multiagent) {
        const auto doc = m_mgr.sessions().document(m_sessionId);
        if (!doc)
            return false;
        m_multiagent = threads::isCoordinator(doc->value(QStringLiteral("agent")).toObject());
    }
    return *m_multiagent;
}

bool SessionRuntime::coordinates()
{
    return !isThread() && multiagent();
}

std::optional<QJsonObject> SessionRuntime::sessionDoc()
{
    auto doc = m_mgr.sessions().document(m_sessionId);
    if (!doc || !isThread())
        return doc;
    if (!m_threadAgent) {
        auto members = threads::roster(doc->value(QStringLiteral("agent")).toObject(), m_mgr.sessions().agents());
        if (members)
            for (const auto &m : std::as_const(*members))
                if (m.name == m_agentName)
                    m_threadAgent = m.agent;
        if (!m_threadAgent) {
            qCWarning(lcRuntime).noquote() << "session" << m_sessionId << "thread" << m_threadId
                                           << "cannot resolve its agent" << m_agentName;
            return std::nullopt;
        }
    }
    doc->insert(QStringLiteral("agent"), *m_threadAgent);
    return doc;
}

QList<LoggedEvent> SessionRuntime::ownView(const QList<LoggedEvent> &events) const
{
    const bool advised = !isThread() && !m_advisorModel.value_or(QString()).isEmpty();
    if (!m_multiagent.value_or(false) && !isThread() && !advised)
        return events; // a single-agent session: the whole log is the primary thread
    const QString primary = threads::primaryId(m_sessionId);
    const QString me = isThread() ? m_threadId : primary;
    QList<LoggedEvent> out;
    out.reserve(events.size());
    QSet<QString> advisedBy; // advisor threads whose advice was delivered
    for (const LoggedEvent &le : events) {
        if (advised && le.event.value(QStringLiteral("agent_name")).toString() == threads::kAdvisorName
            && le.event.value(kType).toString() == u"session.thread_status_terminated"
            && !advisedBy.contains(le.event.value(kThread).toString())) {
            // A consultation that failed or was abandoned: the agent goes on after a generic notice.
            LoggedEvent v = le;
            v.event =
                QJsonObject{{kType, QStringLiteral("user.message")},
                            {kId, le.event.value(kId)},
                            {QStringLiteral("processed_at"), le.event.value(QStringLiteral("processed_at"))},
                            {QStringLiteral("vivarium_inline"), true},
                            {QStringLiteral("content"),
                             QJsonArray{textBlocks(QStringLiteral("[The advisor consultation ended without advice; "
                                                                  "continue on your own.]"))}}};
            out.append(v);
            continue;
        }
        if (!threads::inThread(le.event, me, primary))
            continue;
        LoggedEvent v = le;
        QString type = v.event.value(kType).toString();
        if (type == u"session.thread_created")
            continue;
        if (type.startsWith(QStringLiteral("session.thread_status_"))) {
            if (!isThread())
                continue;
            v.event.insert(kType, QString(QStringLiteral("session.status_") + type.mid(22)));
        } else if (type == u"agent.thread_message_received") {
            // The model reads a message from another thread as a user turn naming its sender.
            const QString from = v.event.value(QStringLiteral("from_agent_name")).toString();
            const bool advice = !isThread() && from == threads::kAdvisorName;
            if (advice)
                advisedBy.insert(v.event.value(QStringLiteral("from_session_thread_id")).toString());
            const QString text =
                advice ? QStringLiteral("[Advice from your advisor]\n%1")
                             .arg(textOf(v.event.value(QStringLiteral("content")).toArray()))
                : isThread() ? textOf(v.event.value(QStringLiteral("content")).toArray())
                             : QStringLiteral("[Report from agent \"%1\", thread %2]\n%3")
                                   .arg(from, v.event.value(QStringLiteral("from_session_thread_id")).toString(),
                                        textOf(v.event.value(QStringLiteral("content")).toArray()));
            v.event = QJsonObject{{kType, QStringLiteral("user.message")},
                                  {kId, v.event.value(kId)},
                                  {QStringLiteral("processed_at"), v.event.value(QStringLiteral("processed_at"))},
                                  {QStringLiteral("content"), QJsonArray{textBlocks(text)}}};
            if (advice) // read where it was delivered, mid-turn (not queued input)
                v.event.insert(QStringLiteral("vivarium_inline"), true);
        }
        out.append(v);
    }
    return out;
}

QJsonArray SessionRuntime::delegationTools()
{
    if (!coordinates())
        return {};
    return QJsonArray{
        QJsonObject{{QStringLiteral("name"), kListAgents},
                    {QStringLiteral("description"),
                     QStringLiteral("List the agents you can delegate to (name and description), and your threads with "
                                    "them (session_thread_id, agent, status).")},
                    {QStringLiteral("input_schema"), QJsonObject{{kType, QStringLiteral("object")},
                                                                 {QStringLiteral("properties"), QJsonObject{}}}}},
        QJsonObject{{QStringLiteral("name"), kSendToAgent},
                    {QStringLiteral("description"),
                     QStringLiteral("Send a task or a follow-up message to an agent. Without session_thread_id a new "
                                    "thread of agent_name starts with the message as its task; with it, the message "
                                    "goes to that existing thread, which keeps its earlier turns. Returns at once; "
                                    "the agent's report arrives later as a message from its thread. The agent sees "
                                    "none of your conversation: put everything it needs in the message.")},
                    {QStringLiteral("input_schema"),
                     QJsonObject{{kType, QStringLiteral("object")},
                                 {QStringLiteral("properties"),
                                  QJsonObject{{QStringLiteral("agent_name"), QJsonObject{{kType, QStringLiteral("string")}}},
                                              {QStringLiteral("session_thread_id"), QJsonObject{{kType, QStringLiteral("string")}}},
                                              {QStringLiteral("message"), QJsonObject{{kType, QStringLiteral("string")}}}}},
                                 {QStringLiteral("required"), QJsonArray{QStringLiteral("message")}}}}},
    };
}

bool SessionRuntime::delegate(const QString &name, const QJsonObject &input, QList<QJsonObject> &events,
                              QList<QJsonObject> &results)
{
    if ((name != kListAgents && name != kSendToAgent) || !coordinates())
        return false;
    const QString useId = ids::make(u"sevt");
    events.append(ev(QStringLiteral("agent.tool_use"),
                     {{kId, useId}, {QStringLiteral("name"), name}, {QStringLiteral("input"), input},
                      {QStringLiteral("evaluated_permission"), QStringLiteral("allow")},
                      {QStringLiteral("evaluation"), QJsonObject{{kType, QStringLiteral("always_allow")}}}}));
    const auto doc = m_mgr.sessions().document(m_sessionId);
    auto logged = m_mgr.log().since(m_sessionId, 0);
    auto members = threads::roster(doc.value_or(QJsonObject{}).value(QStringLiteral("agent")).toObject(),
                                   m_mgr.sessions().agents());
    if (!doc || !logged || !members) {
        results.append(toolResult(useId, members ? QStringLiteral("The roster cannot be read now.") : members.error().message(), true));
        return true;
    }
    const QList<threads::Info> known = threads::collect(m_sessionId, *doc, *logged);
    if (name == kListAgents) {
        QJsonArray agents, threadList;
        for (const auto &m : std::as_const(*members))
            agents.append(QJsonObject{{QStringLiteral("name"), m.name}, {QStringLiteral("description"), m.description}});
        for (const auto &t : known)
            if (!t.parent.isEmpty())
                threadList.append(QJsonObject{{kThread, t.id}, {QStringLiteral("agent_name"), t.agentName},
                                              {QStringLiteral("status"), t.status}});
        results.append(toolResult(useId, QString::fromUtf8(QJsonDocument(QJsonObject{{QStringLiteral("agents"), agents},
                                                                                     {QStringLiteral("threads"), threadList}})
                                                                .toJson(QJsonDocument::Compact)),
                                  false));
        return true;
    }
    const QString message = input.value(QStringLiteral("message")).toString();
    QString target = input.value(kThread).toString();
    QString agentName = input.value(QStringLiteral("agent_name")).toString();
    if (message.trimmed().isEmpty()) {
        results.append(toolResult(useId, QStringLiteral("`message` is required and must not be empty."), true));
        return true;
    }
    const QString primary = threads::primaryId(m_sessionId);
    QList<QJsonObject> out;
    if (!target.isEmpty()) {
        const threads::Info *found = nullptr;
        for (const auto &t : known)
            if (t.id == target && !t.parent.isEmpty())
                found = &t;
        if (!found || !found->archivedAt.isEmpty()) {
            results.append(toolResult(useId, found ? QStringLiteral("Thread %1 is archived.").arg(target)
                                                   : QStringLiteral("There is no thread %1 (list_agents shows your threads).").arg(target),
                                      true));
            return true;
        }
        agentName = found->agentName;
    } else {
        bool inRoster = false;
        QStringList names;
        for (const auto &m : std::as_const(*members)) {
            names << m.name;
            inRoster = inRoster || m.name == agentName;
        }
        if (!inRoster) {
            results.append(toolResult(useId, QStringLiteral("No agent named \"%1\" in your roster; the agents are: %2.")
                                                 .arg(agentName, names.join(QStringLiteral(", "))), true));
            return true;
        }
        int live = 0;
        for (const auto &t : known) // advisor consultation threads are exempt from the limit
            live += !t.parent.isEmpty() && t.archivedAt.isEmpty() && t.agentName != threads::kAdvisorName;
        if (live >= kMaxThreads) {
            results.append(toolResult(useId, QStringLiteral("The session already has %1 threads (the limit); send to an "
                                                            "existing thread instead.").arg(kMaxThreads), true));
            return true;
        }
        target = ids::make(u"sthr");
        out.append(ev(QStringLiteral("session.thread_created"),
                      {{kThread, target}, {QStringLiteral("agent_name"), agentName},
                       {QStringLiteral("workflow_run_id"), QJsonValue::Null}}));
    }
    const QJsonArray content{textBlocks(message)};
    const QString coordinatorName = doc->value(QStringLiteral("agent")).toObject().value(QStringLiteral("name")).toString();
    out.append(ev(QStringLiteral("agent.thread_message_sent"),
                  {{QStringLiteral("to_session_thread_id"), target}, {QStringLiteral("to_agent_name"), agentName},
                   {QStringLiteral("content"), content}}));
    // The delegate's input: queued on its thread until its runtime starts a turn with it.
    out.append(ev(QStringLiteral("agent.thread_message_received"),
                  {{kThread, target}, {QStringLiteral("from_session_thread_id"), primary},
                   {QStringLiteral("from_agent_name"), coordinatorName}, {QStringLiteral("content"), content},
                   {QStringLiteral("processed_at"), QJsonValue::Null}}));
    out.append(toolResult(useId, QStringLiteral("Sent to agent \"%1\" in thread %2 (session_thread_id). Its report will "
                                                "arrive as a message from that thread; do not wait by polling.")
                                     .arg(agentName, target), false));
    results.append(out);
    return true;
}

void SessionRuntime::reportToCoordinator(QList<QJsonObject> &events, const QJsonObject &stopReason)
{
    QStringList texts;
    for (const QJsonObject &e : std::as_const(events))
        if (e.value(kType).toString() == u"agent.message")
            texts << textOf(e.value(QStringLiteral("content")).toArray());
    if (texts.isEmpty()) {
        // The turn's last words were committed earlier (e.g. before a refused tool call).
        if (auto logged = m_mgr.log().since(m_sessionId, 0)) {
            const QList<LoggedEvent> mine = ownView(*logged);
            for (qsizetype i = mine.size() - 1; i >= 0; --i) {
                const QString t = mine.at(i).event.value(kType).toString();
                if (t == u"user.message")
                    break;
                if (t == u"agent.message") {
                    texts.prepend(textOf(mine.at(i).event.value(QStringLiteral("content")).toArray()));
                    break;
                }
            }
        }
    }
    QString text = texts.join(QStringLiteral("\n\n"));
    if (text.isEmpty())
        text = QStringLiteral("(The agent ended its turn without a message; stop_reason %1.)")
                   .arg(stopReason.value(kType).toString());
    const auto doc = m_mgr.sessions().document(m_sessionId);
    const QString coordinatorName = doc.value_or(QJsonObject{}).value(QStringLiteral("agent")).toObject()
                                        .value(QStringLiteral("name")).toString();
    const QJsonArray content{textBlocks(text)};
    events.append(ev(QStringLiteral("agent.thread_message_sent"),
                     {{QStringLiteral("to_session_thread_id"), threads::primaryId(m_sessionId)},
                      {QStringLiteral("to_agent_name"), coordinatorName}, {QStringLiteral("content"), content}}));
    events.append(ev(QStringLiteral("agent.thread_message_received"),
                     {{kThread, QJsonValue::Null}, // on the primary thread (the tag is dropped in commit)
                      {QStringLiteral("from_session_thread_id"), m_threadId},
                      {QStringLiteral("from_agent_name"), m_agentName}, {QStringLiteral("content"), content},
                      {QStringLiteral("processed_at"), QJsonValue::Null}}));
}

void SessionRuntime::shapeForThreads(QList<QJsonObject> &events, QString &status)
{
    if (!isThread() && !multiagent())
        return;
    QString own;
    QJsonObject ownStop;
    bool reportsToPrimary = false;
    QList<QJsonObject> shaped;
    shaped.reserve(events.size());
    for (QJsonObject e : std::as_const(events)) {
        const QString type = e.value(kType).toString();
        const bool statusEvent = type.startsWith(QStringLiteral("session.status_"));
        if (statusEvent) {
            own = type.mid(15);
            if (own == u"rescheduled")
                own = QStringLiteral("rescheduling");
            ownStop = e.value(QStringLiteral("stop_reason")).toObject();
        }
        if (isThread()) {
            if (statusEvent) {
                e.insert(kType, QString(QStringLiteral("session.thread_status_") + type.mid(15)));
                e.insert(QStringLiteral("agent_name"), m_agentName);
            }
            if (!e.contains(kThread))
                e.insert(kThread, m_threadId);
            else if (e.value(kThread).isNull()) {
                e.remove(kThread);
                reportsToPrimary = reportsToPrimary || type == u"agent.thread_message_received";
            }
        } else if (statusEvent) {
            continue; // the session-level status is derived below
        }
        shaped.append(e);
    }
    events = shaped;
    if (own.isEmpty()) {
        status.clear();
        return;
    }
    m_state = own;
    m_lastStop = ownStop;
    // The session's status from every thread's: running while any thread works (or the
    // coordinator has a report to read); idle otherwise, requires_action when any thread waits.
    bool busy = reportsToPrimary;
    QStringList actions;
    QJsonObject primaryStop = stop(QStringLiteral("end_turn"));
    for (SessionRuntime *r : m_mgr.runtimesOf(m_sessionId)) {
        const QString s = r->m_state;
        busy = busy || s == u"running" || s == u"rescheduling" || (!r->isThread() && !r->m_queue.isEmpty());
        if (s == u"idle" && r->m_lastStop.value(kType).toString() == u"requires_action")
            for (const QJsonValue &v : r->m_lastStop.value(QStringLiteral("event_ids")).toArray())
                actions << v.toString();
        if (!r->isThread() && s == u"idle" && !r->m_lastStop.isEmpty())
            primaryStop = r->m_lastStop;
    }
    const QString row = m_mgr.sessions().document(m_sessionId).value_or(QJsonObject{}).value(QStringLiteral("status")).toString();
    status.clear();
    if (busy) {
        if (!isThread() && own == u"rescheduling") {
            events.append(ev(QStringLiteral("session.status_rescheduled")));
            status = own;
        } else if (row != u"running") {
            events.append(ev(QStringLiteral("session.status_running")));
            status = QStringLiteral("running");
        }
        return;
    }
    const QJsonObject reason = actions.isEmpty() ? primaryStop : requiresAction(actions);
    events.append(idle(reason));
    status = QStringLiteral("idle");
}

// ---- RuntimeManager -----------------------------------------------------------------------

QList<SessionRuntime *> RuntimeManager::runtimesOf(const QString &sessionId) const
{
    QList<SessionRuntime *> out;
    if (SessionRuntime *p = m_runtimes.value(sessionId))
        out << p;
    for (SessionRuntime *t : m_threads.value(sessionId))
        out << t;
    return out;
}

SessionRuntime *RuntimeManager::threadRuntime(const QString &sessionId, const QString &threadId, const QString &agentName)
{
    auto &mine = m_threads[sessionId];
    if (SessionRuntime *r = mine.value(threadId))
        return r;
    QString name = agentName;
    if (name.isEmpty())
        if (auto created = m_log.ofTypes(sessionId, {QStringLiteral("session.thread_created")}))
            for (const QJsonObject &e : std::as_const(*created))
                if (e.value(kThread).toString() == threadId)
                    name = e.value(QStringLiteral("agent_name")).toString();
    auto *r = new SessionRuntime(*this, sessionId, threadId, name);
    mine.insert(threadId, r);
    return r;
}

bool RuntimeManager::routeThreadEvent(const QString &sessionId, const QJsonObject &event)
{
    const QString type = event.value(kType).toString();
    const QString thread = event.value(kThread).toString();
    if (type == u"user.interrupt" && !thread.isEmpty()) // a consultation of the primary's advisor
        if (SessionRuntime *p = m_runtimes.value(sessionId);
            p && p->interruptAdvisor(thread, event.value(kId).toString()))
            return true;
    if (type == u"agent.thread_message_received") {
        if (thread.isEmpty())
            runtime(sessionId)->onUserEvent(event); // a report for the coordinator
        else
            threadRuntime(sessionId, thread, {})->onUserEvent(event);
        return true;
    }
    if (!type.startsWith(QStringLiteral("user.")) || !m_threads.contains(sessionId))
        return false;
    if (type == u"user.interrupt") {
        if (!thread.isEmpty() && thread != threads::primaryId(sessionId)) {
            threadRuntime(sessionId, thread, {})->onUserEvent(event);
            return true;
        }
        if (!thread.isEmpty())
            return false; // the primary thread alone
        // Every thread: delegates first (their idles are not yet the session's), then the primary.
        for (SessionRuntime *t : m_threads.value(sessionId))
            t->interrupt({});
        return false;
    }
    const QString target = event.value(type == u"user.custom_tool_result" ? QStringLiteral("custom_tool_use_id")
                                                                        : QStringLiteral("tool_use_id")).toString();
    if (target.isEmpty())
        return false;
    for (SessionRuntime *t : m_threads.value(sessionId)) {
        if (t->m_pending.contains(target)) {
            t->onUserEvent(event);
            return true;
        }
    }
    return false;
}

void RuntimeManager::dropThreads(const QString &sessionId, bool archive)
{
    // Archive: each delegate's turn is closed while the delegates are still registered, so the
    // session-level status derived from them stays right; then they go.
    if (archive)
        for (SessionRuntime *t : m_threads.value(sessionId))
            t->interrupt({});
    for (SessionRuntime *t : m_threads.take(sessionId)) {
        t->abandon();
        t->deleteLater();
    }
}

void RuntimeManager::recoverThreads(const QString &sessionId, bool wasRunning)
{
    const auto doc = m_sessions.document(sessionId);
    if (!doc)
        return;
    const QJsonObject agent = doc->value(QStringLiteral("agent")).toObject();
    if (threads::advisorModel(agent).isEmpty() && !threads::isCoordinator(agent))
        return;
    auto logged = m_log.since(sessionId, 0);
    if (!logged)
        return;
    const QList<threads::Info> all = threads::collect(sessionId, *doc, *logged);
    // An advisor consultation cut by a restart is not resumed: its thread terminates with no
    // advice (its open span ended as an error); the agent reads the generic notice (ownView).
    for (const threads::Info &t : all) {
        if (t.agentName != threads::kAdvisorName || t.status == u"terminated")
            continue;
        QList<QJsonObject> out;
        QString open;
        for (const LoggedEvent &le : std::as_const(*logged)) {
            if (le.event.value(kThread).toString() != t.id)
                continue;
            const QString type = le.event.value(kType).toString();
            if (type == u"span.model_request_start")
                open = le.event.value(kId).toString();
            else if (type == u"span.model_request_end")
                open.clear();
        }
        if (!open.isEmpty())
            out.append(
                ev(QStringLiteral("span.model_request_end"),
                   {{kThread, t.id},
                    {QStringLiteral("model_request_start_id"), open},
                    {QStringLiteral("is_error"), true},
                    {QStringLiteral("model_usage"), QJsonObject{{QStringLiteral("input_tokens"), 0},
                                                                {QStringLiteral("output_tokens"), 0},
                                                                {QStringLiteral("cache_read_input_tokens"), 0},
                                                                {QStringLiteral("cache_creation_input_tokens"), 0}}}}));
        out.append(ev(QStringLiteral("session.thread_status_terminated"),
                      {{kThread, t.id}, {QStringLiteral("agent_name"), t.agentName}}));
        SessionService::RuntimeCommit c;
        c.events = out;
        if (auto r = m_sessions.commitRuntime(sessionId, c); !r)
            qCWarning(lcRuntime).noquote() << "recovery of advisor thread" << t.id << "failed:" << r.error().message();
    }
    if (!threads::isCoordinator(agent))
        return;
    QHash<QString, QString> pendingOf; // queued agent.thread_message_received → its thread
    if (auto queued = m_log.pending(sessionId))
        for (const LoggedEvent &le : std::as_const(*queued))
            if (le.event.value(kType).toString() == u"agent.thread_message_received")
                pendingOf.insert(le.event.value(kId).toString(), le.event.value(kThread).toString());
    for (const threads::Info &t : all) {
        if (t.parent.isEmpty() || !t.archivedAt.isEmpty())
            continue;
        if (wasRunning && (t.status == u"running" || t.status == u"rescheduling")) {
            // As recoverSession does for the primary: the thread's turn is closed, not replayed,
            // and what was queued for it is flushed (it joins its history).
            QList<QJsonObject> out = closingEvents(
                sessionId, QStringLiteral("Vivarium restarted while this tool call was in flight; it may or may not have run."),
                {}, t.id);
            out.append(sessionError(QStringLiteral("unknown_error"),
                                    QStringLiteral("The thread's turn was interrupted because Vivarium stopped while it "
                                                   "was running (crash or kill); it was not resumed."),
                                    QStringLiteral("exhausted")));
            for (QJsonObject &e : out)
                e.insert(kThread, t.id);
            QJsonObject idleEvent = idle(stop(QStringLiteral("retries_exhausted")));
            idleEvent.insert(kType, QStringLiteral("session.thread_status_idle"));
            idleEvent.insert(kThread, t.id);
            idleEvent.insert(QStringLiteral("agent_name"), t.agentName);
            out.append(idleEvent);
            SessionService::RuntimeCommit c;
            c.events = out;
            for (auto it = pendingOf.cbegin(); it != pendingOf.cend(); ++it)
                if (it.value() == t.id)
                    c.processed << it.key();
            if (auto r = m_sessions.commitRuntime(sessionId, c); !r)
                qCWarning(lcRuntime).noquote() << "recovery of thread" << t.id << "failed:" << r.error().message();
            continue;
        }
        threadRuntime(sessionId, t.id, t.agentName); // restored below (requires_action, queued work)
    }
}

} // namespace viv
