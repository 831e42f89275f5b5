#include "ThreadService.h"

#include "AgentService.h"
#include "PriceTable.h"
#include "SessionBudget.h"
#include "SessionService.h"
#include "core/ApiError.h"
#include "core/Clock.h"

#include <QJsonArray>
#include <QSet>

using namespace Qt::StringLiterals;

namespace viv {

namespace threads {

QString primaryId(const QString &sessionId)
{
    const qsizetype cut = sessionId.indexOf(u'_');
    return u"sthr_"_s + (cut >= 0 ? sessionId.mid(cut + 1) : sessionId);
}

bool isCoordinator(const QJsonObject &agent)
{
    const QJsonObject m = agent.value(u"multiagent"_s).toObject();
    if (m.value(u"type"_s).toString() != u"coordinator")
        return false;
    for (const QJsonValue &v : m.value(u"agents"_s).toArray())
        if (v.toObject().value(u"type"_s).toString() == u"agent")
            return true;
    return false;
}

QString advisorModel(const QJsonObject &agent)
{
    const QJsonObject m = agent.value(u"multiagent"_s).toObject();
    if (m.value(u"type"_s).toString() == u"multiagent_20261001") { // {"advisor": {"type": "enabled", "model"}}
        const QJsonObject a = m.value(u"advisor"_s).toObject();
        return a.value(u"type"_s).toString() == u"enabled" ? a.value(u"model"_s).toString() : QString();
    }
    if (m.value(u"type"_s).toString() != u"coordinator")
        return {};
    for (const QJsonValue &v : m.value(u"agents"_s).toArray())
        if (v.toObject().value(u"type"_s).toString() == u"advisor")
            return v.toObject().value(u"model"_s).toString();
    return {};
}

Result<QList<Member>> roster(const QJsonObject &sessionAgent, AgentService &agents)
{
    QList<Member> out;
    const QString selfId = sessionAgent.value(u"id"_s).toString();
    const QJsonArray entries = sessionAgent.value(u"multiagent"_s).toObject().value(u"agents"_s).toArray();
    for (qsizetype i = 0; i < entries.size(); ++i) {
        const QJsonObject e = entries.at(i).toObject();
        if (e.value(u"type"_s).toString() != u"agent")
            continue; // the advisor is not a roster agent (SessionRuntimeAdvisor.cpp)
        const QString id = e.value(u"id"_s).toString();
        QJsonObject agent;
        if (id == selfId) {
            agent = sessionAgent; // session overrides apply to `self` copies
        } else {
            auto snap = agents.snapshot(id, e.value(u"version"_s).toInt());
            if (!snap)
                return ApiError::invalid(u"agent.multiagent.agents[%1]: %2"_s.arg(i).arg(snap.error().message()));
            agent = *snap;
        }
        agent.remove(u"multiagent"_s); // one level of delegation: a delegate never delegates
        agent.insert(u"type"_s, u"agent"_s);
        out.append(Member{agent.value(u"name"_s).toString(), agent.value(u"description"_s).toString(), agent});
    }
    return out;
}

bool inThread(const QJsonObject &event, const QString &threadId, const QString &primaryThreadId)
{
    const QString t = event.value(u"session_thread_id"_s).toString();
    if (threadId == primaryThreadId)
        return t.isEmpty() || t == primaryThreadId;
    return t == threadId;
}

namespace {

// Folds one status event into the thread's timing.
void timing(Info &info, const QString &status, const QString &when)
{
    info.hasStatus = true;
    if (status == u"running") {
        if (info.firstRunningAt.isEmpty())
            info.firstRunningAt = when;
        if (info.runningSince.isEmpty())
            info.runningSince = when;
        return;
    }
    if (status == u"idle")
        info.hasIdle = true;
    if (!info.runningSince.isEmpty()) { // running → idle | rescheduled | terminated
        const QDateTime from = clock::fromIso(info.runningSince), to = clock::fromIso(when);
        if (from.isValid() && to.isValid())
            info.activeMs += qMax<qint64>(0, from.msecsTo(to));
        info.runningSince.clear();
    }
}

} // namespace

QList<Info> collect(const QString &sessionId, const QJsonObject &session, const QList<LoggedEvent> &events)
{
    QList<Info> out;
    Info primary;
    primary.id = primaryId(sessionId);
    primary.agentName = session.value(u"agent"_s).toObject().value(u"name"_s).toString();
    primary.status = session.value(u"status"_s).toString();
    primary.createdAt = session.value(u"created_at"_s).toString();
    primary.updatedAt = session.value(u"updated_at"_s).toString();
    primary.archivedAt = session.value(u"archived_at"_s).toString();
    out.append(primary);
    QHash<QString, qsizetype> at;
    for (const LoggedEvent &le : events) {
        const QJsonObject &e = le.event;
        const QString type = e.value(u"type"_s).toString();
        const QString tid = e.value(u"session_thread_id"_s).toString();
        const QString when = e.value(u"processed_at"_s).toString();
        if (type == u"session.thread_created") {
            Info i;
            i.id = tid;
            i.agentName = e.value(u"agent_name"_s).toString();
            i.parent = primary.id;
            i.status = u"idle"_s;
            i.createdAt = i.updatedAt = when;
            at.insert(tid, out.size());
            out.append(i);
            continue;
        }
        Info *info = tid.isEmpty() ? &out[0] : (at.contains(tid) ? &out[at.value(tid)] : nullptr);
        if (!info)
            continue;
        if (!tid.isEmpty() && !when.isEmpty())
            info->updatedAt = when;
        // A delegate's own status events, or the session's for the primary thread (whose status
        // is the session's).
        const QString statusPrefix = tid.isEmpty() ? u"session.status_"_s : u"session.thread_status_"_s;
        if (type.startsWith(statusPrefix)) {
            const QString s = type.mid(statusPrefix.size());
            if (!tid.isEmpty()) {
                info->status = s == u"rescheduled" ? u"rescheduling"_s : s;
                if (s == u"terminated")
                    info->archivedAt = when;
            }
            timing(*info, s, when);
        } else if (type == u"span.model_request_end" || type == u"span.outcome_evaluation_end") {
            const QJsonObject u = e.value(type == u"span.model_request_end" ? u"model_usage"_s : u"usage"_s).toObject();
            info->inputTokens += qint64(u.value(u"input_tokens"_s).toDouble());
            info->outputTokens += qint64(u.value(u"output_tokens"_s).toDouble());
            info->cacheRead += qint64(u.value(u"cache_read_input_tokens"_s).toDouble());
            info->cacheCreation += qint64(u.value(u"cache_creation_input_tokens"_s).toDouble());
        }
    }
    return out;
}

namespace {

// Where a thread's clock stops: its archive (or, for the primary thread of a terminated
// session, the session's final update); otherwise now.
QDateTime endOf(const Info &info, const QDateTime &now)
{
    const QString at = !info.archivedAt.isEmpty()     ? info.archivedAt
                       : info.status == u"terminated" ? info.updatedAt
                                                      : QString();
    const QDateTime end = at.isEmpty() ? now : clock::fromIso(at);
    return end.isValid() ? end : now;
}

double activeSeconds(const Info &info, const QDateTime &now)
{
    qint64 ms = info.activeMs;
    if (!info.runningSince.isEmpty())
        if (const QDateTime from = clock::fromIso(info.runningSince); from.isValid())
            ms += qMax<qint64>(0, from.msecsTo(now));
    return ms / 1000.0;
}

} // namespace

QJsonValue statsJson(const Info &info, const QDateTime &now)
{
    if (!info.hasStatus)
        return QJsonValue::Null;
    const QDateTime created = clock::fromIso(info.createdAt);
    const QDateTime end = endOf(info, now); // archived threads freeze their duration
    double startup = 0;                     // child threads start immediately
    if (info.parent.isEmpty() && !info.firstRunningAt.isEmpty())
        if (const QDateTime first = clock::fromIso(info.firstRunningAt); first.isValid() && created.isValid())
            startup = qMax<qint64>(0, created.msecsTo(first)) / 1000.0;
    return QJsonObject{
        {u"active_seconds"_s, activeSeconds(info, end)},
        {u"duration_seconds"_s, created.isValid() ? qMax<qint64>(0, created.msecsTo(end)) / 1000.0 : 0.0},
        {u"startup_seconds"_s, startup},
    };
}

QJsonValue usageJson(const Info &info, const QString &model, const QDateTime &now)
{
    if (!info.hasIdle)
        return QJsonValue::Null;
    const qint64 nano = PriceTable::instance().costNanoUsd(
        model, TokenCounts{info.inputTokens, info.outputTokens, info.cacheRead, info.cacheCreation});
    return QJsonObject{
        {u"input_tokens"_s, double(info.inputTokens)},
        {u"output_tokens"_s, double(info.outputTokens)},
        {u"cache_read_input_tokens"_s, double(info.cacheRead)},
        // The Messages API reports one cache-creation figure; its default TTL is 5 minutes.
        {u"cache_creation"_s, QJsonObject{{u"ephemeral_1h_input_tokens"_s, 0},
                                          {u"ephemeral_5m_input_tokens"_s, double(info.cacheCreation)}}},
        {u"active_seconds"_s, activeSeconds(info, endOf(info, now))},
        {u"list_cost"_s, budget::listCost(nano)},
    };
}

} // namespace threads

ThreadService::ThreadService(SessionService &sessions, EventLog &log, QObject *parent)
    : QObject(parent), m_sessions(sessions), m_log(log)
{
}

Result<QList<threads::Info>> ThreadService::infos(const QString &sessionId, QJsonObject *sessionOut)
{
    auto session = m_sessions.retrieve(sessionId);
    if (!session)
        return session.error();
    auto events = m_log.since(sessionId, 0);
    if (!events)
        return events.error();
    if (sessionOut)
        *sessionOut = *session;
    return threads::collect(sessionId, *session, *events);
}

QJsonObject ThreadService::toJson(const QString &sessionId, const QJsonObject &session, const threads::Info &info)
{
    QJsonObject agent;
    const QJsonObject sessionAgent = session.value(u"agent"_s).toObject();
    if (info.parent.isEmpty()) {
        agent = sessionAgent;
        agent.remove(u"multiagent"_s);
        agent.insert(u"type"_s, u"agent"_s);
    } else if (info.agentName == threads::kAdvisorName) {
        // A consultation thread: the two-field advisor form, as configured.
        agent = QJsonObject{{u"type"_s, u"advisor"_s}, {u"model"_s, threads::advisorModel(sessionAgent)}};
    } else if (auto members = threads::roster(sessionAgent, m_sessions.agents())) {
        for (const auto &m : std::as_const(*members))
            if (m.name == info.agentName)
                agent = m.agent;
    }
    // BetaManagedAgentsSessionThreadAgent has no multiagent / execution identity extras to drop
    // beyond the roster; keep the documented keys only.
    const bool advisor = agent.value(u"type"_s).toString() == u"advisor"; // exactly {type, model}
    QJsonObject shaped = advisor ? agent : QJsonObject{};
    if (!advisor)
        for (const QString &k : {u"id"_s, u"description"_s, u"execution_identity"_s, u"mcp_servers"_s, u"model"_s,
                                 u"name"_s, u"skills"_s, u"system"_s, u"tools"_s, u"type"_s, u"version"_s})
            shaped.insert(k, agent.value(k));
    auto orNull = [](const QString &s) { return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s); };
    const QDateTime now = QDateTime::currentDateTimeUtc();
    return QJsonObject{
        {u"id"_s, info.id},
        {u"type"_s, u"session_thread"_s},
        {u"session_id"_s, sessionId},
        {u"agent"_s, shaped},
        {u"parent_thread_id"_s, orNull(info.parent)},
        {u"status"_s, info.status},
        {u"created_at"_s, info.createdAt},
        {u"updated_at"_s, info.updatedAt},
        {u"archived_at"_s, orNull(info.archivedAt)},
        {u"workflow_run_id"_s, QJsonValue::Null},
        {u"stats"_s, threads::statsJson(info, now)},
        {u"usage"_s, threads::usageJson(info, budget::agentModel(agent), now)},
    };
}

Status ThreadService::check(const QString &sessionId, const QString &threadId)
{
    auto all = infos(sessionId);
    if (!all)
        return all.error();
    for (const auto &i : std::as_const(*all))
        if (i.id == threadId)
            return Ok{};
    return ApiError::notFound(u"session %1 has no thread %2"_s.arg(sessionId, threadId));
}

Result<Page> ThreadService::list(const QString &sessionId, const PageRequest &page, const QStringList &statuses)
{
    static const QStringList known{u"running"_s, u"idle"_s, u"rescheduling"_s, u"terminated"_s};
    for (const QString &s : statuses)
        if (!known.contains(s))
            return ApiError::invalid(u"`statuses[]` must be one of running, idle, rescheduling, terminated; got \"%1\""_s.arg(s));
    QJsonObject session;
    auto all = infos(sessionId, &session);
    if (!all)
        return all.error();
    qsizetype start = 0;
    if (!page.page.isEmpty()) {
        char dir = 0;
        QByteArray pos;
        if (!cursors::parse(u"threads", page.page, dir, pos))
            return ApiError::invalid(u"`page`: not a cursor of this list"_s);
        start = pos.toLongLong();
    }
    Page out;
    qsizetype i = start;
    for (; i < all->size() && out.data.size() < page.limit; ++i)
        if (statuses.isEmpty() || statuses.contains(all->at(i).status))
            out.data.append(toJson(sessionId, session, all->at(i)));
    if (i < all->size())
        out.nextPage = cursors::make(u"threads", 'n', QByteArray::number(i));
    return out;
}

Result<QJsonObject> ThreadService::retrieve(const QString &sessionId, const QString &threadId)
{
    QJsonObject session;
    auto all = infos(sessionId, &session);
    if (!all)
        return all.error();
    for (const auto &i : std::as_const(*all))
        if (i.id == threadId)
            return toJson(sessionId, session, i);
    return ApiError::notFound(u"session %1 has no thread %2"_s.arg(sessionId, threadId));
}

Result<QJsonObject> ThreadService::archive(const QString &sessionId, const QString &threadId)
{
    QJsonObject session;
    auto all = infos(sessionId, &session);
    if (!all)
        return all.error();
    for (const auto &i : std::as_const(*all)) {
        if (i.id != threadId)
            continue;
        if (i.parent.isEmpty())
            return ApiError::invalid(u"thread %1 is the session's primary thread; archive the session instead"_s.arg(threadId));
        if (!i.archivedAt.isEmpty())
            return toJson(sessionId, session, i);
        if (i.status != u"idle")
            return ApiError::invalid(u"thread %1 is %2; only an idle thread can be archived (interrupt it first)"_s
                                         .arg(threadId, i.status));
        auto r = m_log.append(sessionId, {QJsonObject{{u"type"_s, u"session.thread_status_terminated"_s},
                                                      {u"session_thread_id"_s, threadId},
                                                      {u"agent_name"_s, i.agentName}}});
        if (!r)
            return r.error();
        Q_EMIT archived(sessionId, threadId);
        return retrieve(sessionId, threadId);
    }
    return ApiError::notFound(u"session %1 has no thread %2"_s.arg(sessionId, threadId));
}

Result<Page> ThreadService::events(const QString &sessionId, const QString &threadId, const PageRequest &page,
                                   bool ascending)
{
    if (auto ok = check(sessionId, threadId); !ok)
        return ok.error();
    auto events = m_log.since(sessionId, 0);
    if (!events)
        return events.error();
    const QString primary = threads::primaryId(sessionId);
    QList<const LoggedEvent *> mine;
    for (const LoggedEvent &le : std::as_const(*events))
        if (threads::inThread(le.event, threadId, primary))
            mine.append(&le);
    if (!ascending)
        std::reverse(mine.begin(), mine.end());
    qint64 after = -1;
    if (!page.page.isEmpty()) {
        char dir = 0;
        QByteArray pos;
        if (!cursors::parse(u"thread_events", page.page, dir, pos) || dir != (ascending ? 'a' : 'd'))
            return ApiError::invalid(u"`page`: not a cursor of this list (or of the other order)"_s);
        after = pos.toLongLong();
    }
    Page out;
    qsizetype i = 0;
    if (after >= 0)
        while (i < mine.size() && (ascending ? mine.at(i)->seq <= after : mine.at(i)->seq >= after))
            ++i;
    for (; i < mine.size() && out.data.size() < page.limit; ++i)
        out.data.append(mine.at(i)->event);
    if (i < mine.size())
        out.nextPage = cursors::make(u"thread_events", ascending ? 'a' : 'd', QByteArray::number(mine.at(i - 1)->seq));
    return out;
}

} // namespace viv
