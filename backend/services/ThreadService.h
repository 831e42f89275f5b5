#pragma once

#include "core/Result.h"
#include "services/EventLog.h"
#include "store/DocTable.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>

namespace viv {

class AgentService;
class SessionService;

// Multiagent threads (docs/DESIGN.md "Threads"). A thread has no table of its own: everything
// about it is derived from the session's event log, where every event of a delegate thread
// carries `session_thread_id` (the primary thread's events carry none). The primary thread's
// id is derived from the session id, so it needs no storage either.
namespace threads {

// The reserved roster name of an advisor entry and of its consultation threads.
inline const QString kAdvisorName = QStringLiteral("anthropic.advisor");
// The model of a session agent's advisor: a coordinator roster's `{"type": "advisor", "model"}`
// entry, or multiagent_20261001's `advisor` `{"type": "enabled", "model"}`; empty when none.
QString advisorModel(const QJsonObject &agent);

// The primary thread of a session: "sthr_" + the session id's random part.
QString primaryId(const QString &sessionId);
// Whether a session agent snapshot is a coordinator that delegates (`multiagent.type` coordinator
// with at least one agent entry; an advisor entry alone gives no delegation, only consultations).
bool isCoordinator(const QJsonObject &agent);

// One agent the coordinator may send work to: its roster name, description and the agent
// configuration its threads run (a `self` entry: the coordinator without `multiagent`).
struct Member
{
    QString name;
    QString description;
    QJsonObject agent; // BetaManagedAgentsSessionThreadAgent shape
};
// The coordinator's roster, resolved (pinned versions; `self` from the session's own snapshot,
// so session overrides apply to it). Errors name the roster entry that cannot be resolved.
Result<QList<Member>> roster(const QJsonObject &sessionAgent, AgentService &agents);

// The state of each thread as the log says (creation order; primary first).
struct Info
{
    QString id;
    QString agentName;
    QString parent;        // empty for the primary thread
    QString status;        // running | idle | rescheduling | terminated
    QString createdAt, updatedAt, archivedAt;
    // Usage: the thread's model requests (span.model_request_end) and outcome grader requests
    // (span.outcome_evaluation_end `usage`); a compaction's summary request is the session's only.
    qint64 inputTokens = 0, outputTokens = 0, cacheRead = 0, cacheCreation = 0;
    // Timing, from the thread's status events (a delegate's session.thread_status_*, the primary
    // thread's session.status_*): stats are null until the first, usage until the first idle.
    bool hasStatus = false, hasIdle = false;
    QString firstRunningAt, runningSince; // runningSince: set while in running status
    qint64 activeMs = 0;                  // closed running intervals
};
// The thread's `stats` (null until its first status event) and `usage` (null until its first
// idle), priced at `model`'s list price (services/PriceTable.h). `now` closes an open running
// interval and the duration of a thread that is not archived.
QJsonValue statsJson(const Info &info, const QDateTime &now);
QJsonValue usageJson(const Info &info, const QString &model, const QDateTime &now);
QList<Info> collect(const QString &sessionId, const QJsonObject &session, const QList<LoggedEvent> &events);
// Whether `event` belongs to the thread's own view (thread events list / stream).
bool inThread(const QJsonObject &event, const QString &threadId, const QString &primaryThreadId);

} // namespace threads

// The thread endpoints: list, retrieve, archive, events list (the stream is SseHub's, with a
// thread filter). Validation errors are the API's 4xx shapes.
class ThreadService : public QObject
{
    Q_OBJECT
public:
    ThreadService(SessionService &sessions, EventLog &log, QObject *parent = nullptr);

    Result<Page> list(const QString &sessionId, const PageRequest &page, const QStringList &statuses);
    Result<QJsonObject> retrieve(const QString &sessionId, const QString &threadId);
    // Only an idle (or requires_action) delegate thread can be archived; the primary thread is
    // archived with its session. Writes session.thread_status_terminated (the thread's
    // archived_at) and emits `archived` after the commit.
    Result<QJsonObject> archive(const QString &sessionId, const QString &threadId);
    // The thread's own events, ascending by default; the cursor is the last seq shown.
    Result<Page> events(const QString &sessionId, const QString &threadId, const PageRequest &page, bool ascending);
    // 404 unless the session has this thread.
    Status check(const QString &sessionId, const QString &threadId);

Q_SIGNALS:
    void archived(const QString &sessionId, const QString &threadId);

private:
    Result<QList<threads::Info>> infos(const QString &sessionId, QJsonObject *session = nullptr);
    QJsonObject toJson(const QString &sessionId, const QJsonObject &session, const threads::Info &info);

    SessionService &m_sessions;
    EventLog &m_log;
};

} // namespace viv
