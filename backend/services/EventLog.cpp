#include "EventLog.h"
#include "ListFilters.h"

#include "GroupCommit.h"

#include "core/Clock.h"
#include "core/Ids.h"
#include "store/Database.h"

#include <QDateTime>
#include <QPointer>

namespace viv {

namespace {

const QString kId = QStringLiteral("id");
const QString kType = QStringLiteral("type");
const QString kProcessedAt = QStringLiteral("processed_at");

} // namespace

QString orderedCursor(bool ascending, const QString &cursor)
{
    if (cursor.isEmpty())
        return {};
    return (ascending ? QStringLiteral("a.") : QStringLiteral("d.")) + cursor;
}

Result<QString> unwrapOrderedCursor(bool ascending, const QString &cursor)
{
    if (cursor.isEmpty())
        return QString();
    if (cursor.size() < 3 || cursor.at(1) != u'.'
        || (cursor.at(0) != u'a' && cursor.at(0) != u'd'))
        return ApiError::invalid(QStringLiteral("`page` is not a valid cursor"));
    if ((cursor.at(0) == u'a') != ascending)
        return ApiError::invalid(QStringLiteral(
            "`page` was issued for order=%1; it cannot be used with order=%2")
                                     .arg(ascending ? QStringLiteral("desc") : QStringLiteral("asc"),
                                          ascending ? QStringLiteral("asc") : QStringLiteral("desc")));
    return cursor.mid(2);
}

EventLog::EventLog(Database &db, QObject *parent)
    : QObject(parent), m_db(db), m_table(db, QStringLiteral("events"))
{
    qRegisterMetaType<viv::LoggedEvent>();
    qRegisterMetaType<QList<viv::LoggedEvent>>();
    // VIVARIUM_GROUP_COMMIT=off: every append commits on its own, on this thread (for comparing
    // in benchmarks; documented in docs/DESIGN.md).
    const bool wanted = qEnvironmentVariable("VIVARIUM_GROUP_COMMIT") != u"off";
    if (wanted && db.isOpen() && !db.path().isEmpty() && db.path() != u":memory:") {
        auto group = std::make_shared<GroupCommit>(db.path());
        if (group->ok()) {
            m_group = std::move(group);
            m_db.setBeforeTransaction([weak = std::weak_ptr<GroupCommit>(m_group)] {
                if (auto g = weak.lock())
                    g->drain();
            });
        }
    }
}

EventLog::~EventLog()
{
    // Not m_db: it may be gone already (Backend). The hook finds the writer gone.
    m_group.reset();
}

void EventLog::drain()
{
    if (m_group)
        m_group->drain();
}

const QStringList &EventLog::eventTypes()
{
    static const QStringList types = {
        QStringLiteral("user.message"), QStringLiteral("user.interrupt"),
        QStringLiteral("user.tool_confirmation"), QStringLiteral("user.custom_tool_result"),
        QStringLiteral("agent.custom_tool_use"), QStringLiteral("agent.message"),
        QStringLiteral("agent.thinking"), QStringLiteral("agent.mcp_tool_use"),
        QStringLiteral("agent.mcp_tool_result"), QStringLiteral("agent.tool_use"),
        QStringLiteral("agent.tool_result"), QStringLiteral("agent.thread_message_received"),
        QStringLiteral("agent.thread_message_sent"), QStringLiteral("agent.thread_context_compacted"),
        QStringLiteral("session.error"), QStringLiteral("session.status_rescheduled"),
        QStringLiteral("session.status_running"), QStringLiteral("session.status_idle"),
        QStringLiteral("session.status_terminated"), QStringLiteral("session.thread_created"),
        QStringLiteral("span.outcome_evaluation_start"), QStringLiteral("span.outcome_evaluation_end"),
        QStringLiteral("span.model_request_start"), QStringLiteral("span.model_request_end"),
        QStringLiteral("span.outcome_evaluation_ongoing"), QStringLiteral("user.define_outcome"),
        QStringLiteral("session.thread_status_running"), QStringLiteral("session.thread_status_idle"),
        QStringLiteral("session.thread_status_terminated"), QStringLiteral("user.tool_result"),
        QStringLiteral("session.thread_status_rescheduled"), QStringLiteral("session.updated"),
        QStringLiteral("system.message"), QStringLiteral("session.usage"),
        QStringLiteral("workflow_run.created"), QStringLiteral("workflow_run.status_running"),
        QStringLiteral("workflow_run.status_idle"), QStringLiteral("workflow_run.status_ended"),
        QStringLiteral("workflow_run.error"), QStringLiteral("workflow_run.phase_started"),
        QStringLiteral("workflow_run.phase_ended"),
    };
    return types;
}

Result<qint64> EventLog::lastSeq(const QString &sessionId)
{
    // Prepared once (every append asks): see Database::cached.
    QSqlQuery &q = m_db.cached(QStringLiteral("SELECT COALESCE(MAX(seq), 0) FROM events WHERE session_id = ?"));
    q.addBindValue(sessionId);
    if (auto s = m_db.exec(q); !s)
        return s.error();
    const qint64 last = q.next() ? q.value(0).toLongLong() : 0;
    q.finish();
    return last;
}

Result<QList<QJsonObject>> EventLog::prepare(const QList<QJsonObject> &events, const QString &now)
{
    QList<QJsonObject> out;
    out.reserve(events.size());
    for (QJsonObject e : events) {
        if (e.value(kType).toString().isEmpty())
            return ApiError::internal(QStringLiteral("an event without a type cannot be logged"));
        const QString given = e.value(kId).toString();
        if (!ids::looksLike(u"sevt", given))
            e.insert(kId, ids::make(u"sevt"));
        if (!e.contains(kProcessedAt))
            e.insert(kProcessedAt, now);
        out.append(e);
    }
    return out;
}

Result<QList<LoggedEvent>> EventLog::insert(Database &db, const QString &sessionId,
                                            const QList<QJsonObject> &prepared, const QString &receivedAt)
{
    // Prepared once per connection (every append asks): see Database::cached.
    QSqlQuery &last = db.cached(QStringLiteral("SELECT COALESCE(MAX(seq), 0) FROM events WHERE session_id = ?"));
    last.addBindValue(sessionId);
    if (auto s = db.exec(last); !s)
        return s.error();
    qint64 seq = last.next() ? last.value(0).toLongLong() : 0;
    last.finish();
    QList<LoggedEvent> out;
    out.reserve(prepared.size());
    for (const QJsonObject &e : prepared) {
        const QJsonValue processed = e.value(kProcessedAt);
        ++seq;
        QSqlQuery &q = db.cached(QStringLiteral(
            "INSERT INTO events (session_id, seq, id, type, created_at, doc) VALUES (?, ?, ?, ?, ?, ?)"));
        q.addBindValue(sessionId);
        q.addBindValue(seq);
        q.addBindValue(e.value(kId).toString());
        q.addBindValue(e.value(kType).toString());
        // created_at is what the list's created_at[…] filters compare: the event's processed_at,
        // or its receipt time while it is queued.
        q.addBindValue(processed.isString() ? processed.toString() : receivedAt);
        q.addBindValue(serializeDoc(e));
        if (auto s = db.exec(q); !s)
            return s.error();
        out.append({sessionId, seq, e});
    }
    return out;
}

Result<QList<LoggedEvent>> EventLog::write(const QString &sessionId, const QList<QJsonObject> &events)
{
    const QString now = clock::nowIso();
    auto prepared = prepare(events, now);
    if (!prepared)
        return prepared.error();
    return insert(m_db, sessionId, *prepared, now);
}

void EventLog::publish(const QString &sessionId, const QList<LoggedEvent> &events)
{
    if (!events.isEmpty())
        Q_EMIT appended(sessionId, events);
}

Result<QList<QJsonObject>> EventLog::append(const QString &sessionId, const QList<QJsonObject> &events)
{
    if (events.isEmpty())
        return QList<QJsonObject>{};
    Transaction tx(m_db);
    if (!tx.active())
        return ApiError::internal(QStringLiteral("cannot begin a transaction on the event log"));
    auto written = write(sessionId, events);
    if (!written)
        return written.error();
    if (!tx.commit())
        return m_db.commitError(QStringLiteral("the event log"));
    publish(sessionId, *written);
    QList<QJsonObject> out;
    out.reserve(written->size());
    for (const LoggedEvent &e : std::as_const(*written))
        out.append(e.event);
    return out;
}

void EventLog::appendGrouped(const QString &sessionId, const QList<QJsonObject> &events,
                             Callback<QList<QJsonObject>> done)
{
    if (!m_group || events.isEmpty())
        return done(append(sessionId, events));
    const QString now = clock::nowIso();
    auto prepared = prepare(events, now);
    if (!prepared)
        return done(prepared.error());
    QPointer<EventLog> self(this);
    m_group->submit(sessionId, std::move(*prepared), now,
                    [self, sessionId, done = std::move(done)](Result<QList<LoggedEvent>> written) {
        if (!written)
            return done(written.error());
        // Committed: now the subscribers hear of it, then the caller answers.
        if (self)
            self->publish(sessionId, *written);
        QList<QJsonObject> out;
        out.reserve(written->size());
        for (const LoggedEvent &e : std::as_const(*written))
            out.append(e.event);
        done(out);
    });
}

Result<Page> EventLog::list(const QString &sessionId, const PageRequest &page, bool ascending,
                            const Filter &filter)
{
    auto inner = unwrapOrderedCursor(ascending, page.page);
    if (!inner)
        return inner.error();
    PageRequest req = page;
    req.page = *inner;
    req.newestFirst = !ascending;

    QList<DocTable::Filter> filters{{QStringLiteral("session_id = ?"), {sessionId}}};
    if (!filter.types.isEmpty())
        filters.append(listfilters::anyOf(QStringLiteral("type"), filter.types));
    auto created = listfilters::createdAt({filter.createdGt, filter.createdGte, filter.createdLt, filter.createdLte});
    if (!created)
        return created.error();
    filters.append(*created);
    auto result = m_table.list(req, filters);
    if (!result)
        return result;
    for (qsizetype i = 0; i < result->data.size(); ++i) {
        if (result->data.at(i).toObject().value(kProcessedAt).isNull()) {
            QJsonObject e = result->data.at(i).toObject();
            overlayProcessed(e);
            result->data.replace(i, e);
        }
    }
    result->nextPage = orderedCursor(ascending, result->nextPage);
    result->prevPage = orderedCursor(ascending, result->prevPage);
    return result;
}

Result<QList<LoggedEvent>> EventLog::since(const QString &sessionId, qint64 afterSeq, int limit)
{
    QSqlQuery q = m_db.query(QStringLiteral(
        "SELECT seq, doc FROM events WHERE session_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?"));
    q.addBindValue(sessionId);
    q.addBindValue(afterSeq);
    q.addBindValue(limit > 0 ? limit : -1); // SQLite: a negative LIMIT means none
    if (auto s = m_db.exec(q); !s)
        return s.error();
    QList<LoggedEvent> out;
    while (q.next())
        out.append({sessionId, q.value(0).toLongLong(), parseDoc(q.value(1).toString())});
    for (LoggedEvent &e : out) {
        if (e.event.value(kProcessedAt).isNull())
            overlayProcessed(e.event);
    }
    return out;
}

void EventLog::overlayProcessed(QJsonObject &event)
{
    QSqlQuery &q = m_db.cached(QStringLiteral("SELECT processed_at FROM event_processed WHERE event_id = ?"));
    q.addBindValue(event.value(kId).toString());
    if (m_db.exec(q) && q.next())
        event.insert(kProcessedAt, q.value(0).toString());
    q.finish();
}

QHash<QString, qint64> EventLog::consumedAt(const QString &sessionId)
{
    QHash<QString, qint64> out;
    QSqlQuery &q = m_db.cached(QStringLiteral("SELECT event_id, at_seq FROM event_processed WHERE session_id = ?"));
    q.addBindValue(sessionId);
    if (m_db.exec(q)) {
        while (q.next())
            out.insert(q.value(0).toString(), q.value(1).toLongLong());
    }
    q.finish();
    return out;
}

Status EventLog::markProcessed(const QString &sessionId, const QStringList &eventIds, const QString &at,
                               qint64 atSeq)
{
    for (const QString &id : eventIds) {
        QSqlQuery &q = m_db.cached(QStringLiteral(
            "INSERT OR IGNORE INTO event_processed (event_id, session_id, processed_at, at_seq) VALUES (?, ?, ?, ?)"));
        q.addBindValue(id);
        q.addBindValue(sessionId);
        q.addBindValue(at);
        q.addBindValue(atSeq);
        if (auto s = m_db.exec(q); !s)
            return s;
    }
    return Ok{};
}

Result<QList<LoggedEvent>> EventLog::pending(const QString &sessionId)
{
    QSqlQuery q = m_db.query(QStringLiteral(
        "SELECT e.seq, e.doc FROM events e INDEXED BY events_session_type WHERE e.session_id = ? AND e.type IN "
        "('user.message', 'user.interrupt', 'user.tool_confirmation') AND NOT EXISTS "
        "(SELECT 1 FROM event_processed p WHERE p.event_id = e.id) ORDER BY e.seq ASC"));
    q.addBindValue(sessionId);
    if (auto s = m_db.exec(q); !s)
        return s.error();
    QList<LoggedEvent> out;
    while (q.next()) {
        QJsonObject doc = parseDoc(q.value(1).toString());
        if (doc.value(kProcessedAt).isNull())
            out.append({sessionId, q.value(0).toLongLong(), doc});
    }
    return out;
}

std::optional<qint64> EventLog::seqOf(const QString &eventId, const QString &sessionId)
{
    QSqlQuery q = m_db.query(sessionId.isEmpty()
                                 ? QStringLiteral("SELECT seq FROM events WHERE id = ?")
                                 : QStringLiteral("SELECT seq FROM events WHERE id = ? AND session_id = ?"));
    q.addBindValue(eventId);
    if (!sessionId.isEmpty())
        q.addBindValue(sessionId);
    if (!m_db.exec(q) || !q.next())
        return std::nullopt;
    return q.value(0).toLongLong();
}

QString EventLog::typeOf(const QString &sessionId, const QString &eventId)
{
    QSqlQuery q = m_db.query(
        QStringLiteral("SELECT type FROM events WHERE id = ? AND session_id = ?"));
    q.addBindValue(eventId);
    q.addBindValue(sessionId);
    if (!m_db.exec(q) || !q.next())
        return {};
    return q.value(0).toString();
}

Result<QList<QJsonObject>> EventLog::ofTypes(const QString &sessionId, const QStringList &types)
{
    QStringList marks;
    for (qsizetype i = 0; i < types.size(); ++i)
        marks << QStringLiteral("?");
    QSqlQuery q = m_db.query(
        // INDEXED BY: left alone, the planner walks the primary key (session_id, seq) to avoid a
        // sort, i.e. the whole session's log; the rows wanted here are few (schema v4).
        QStringLiteral("SELECT doc FROM events INDEXED BY events_session_type WHERE session_id = ? AND type IN (%1) "
                       "ORDER BY seq ASC")
            .arg(marks.join(u',')));
    q.addBindValue(sessionId);
    for (const QString &t : types)
        q.addBindValue(t);
    if (auto s = m_db.exec(q); !s)
        return s.error();
    QList<QJsonObject> out;
    while (q.next()) {
        QJsonObject e = parseDoc(q.value(0).toString());
        if (e.value(kProcessedAt).isNull())
            overlayProcessed(e);
        out.append(e);
    }
    return out;
}

Status EventLog::removeSession(const QString &sessionId)
{
    QSqlQuery q = m_db.query(QStringLiteral("DELETE FROM events WHERE session_id = ?"));
    q.addBindValue(sessionId);
    return m_db.exec(q);
}

} // namespace viv
