#pragma once

#include "core/Result.h"
#include "store/DocTable.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

namespace viv {

class Database;
class GroupCommit;

// One event as the log holds it: the API-shaped JSON plus its per-session sequence number.
// `seq` never appears in API output; it orders the log and backs SSE replay.
struct LoggedEvent
{
    QString sessionId;
    qint64 seq = 0;
    QJsonObject event;
};

// The append-only session event log — the single source of truth for what happened in a
// session. An event is committed to SQLite (synchronous=FULL, so commit = durable) before
// anyone hears of it: `appended` is emitted only after the commit succeeded, and always on the
// thread that owns the database. Subscribers that need "history, then live, without gap or
// duplicate" query `since()` and connect in one synchronous block on that thread.
class EventLog : public QObject
{
    Q_OBJECT
public:
    explicit EventLog(Database &db, QObject *parent = nullptr);
    ~EventLog() override;

    // Assigns each event an `id` (sevt_…, unless the caller pre-assigned a well-formed one, as
    // the runtime does for previewed agent.message events), `processed_at` (now, unless the key
    // is present — an explicit null means "queued, not processed yet") and the next per-session
    // seq; writes all of them in ONE transaction; emits `appended` after the commit. Every event
    // needs a string `type`. Returns the stored JSON, in order.
    Result<QList<QJsonObject>> append(const QString &sessionId, const QList<QJsonObject> &events);

    // append() through group commit (services/GroupCommit.h): the events are committed by the
    // writer thread in one transaction with every other append queued meanwhile (one fsync for
    // all of them), `appended` is emitted after that commit and then `done` runs, on this thread,
    // in submission order. Without a writer (its connection could not be opened) it is append().
    void appendGrouped(const QString &sessionId, const QList<QJsonObject> &events,
                       Callback<QList<QJsonObject>> done);
    // Returns once every grouped append submitted so far is committed, published and answered.
    // Every transaction on the backend's connection starts with it (Database::begin), so the
    // log's commits and their publication keep one order.
    void drain();
    // The database the log lives in (runtime/Compaction.h keeps its rows beside the events).
    Database &database() { return m_db; }
    // The writer, for tests and diagnostics (nullptr when it could not start).
    GroupCommit *groupCommit() const { return m_group.get(); }

    // The steps of write(), for the writer thread too: prepare() fills in id and processed_at
    // (and refuses an event without a type); insert() gives the next seqs and inserts on `db`
    // inside its open transaction (created_at of a queued event is `receivedAt`).
    static Result<QList<QJsonObject>> prepare(const QList<QJsonObject> &events, const QString &now);
    static Result<QList<LoggedEvent>> insert(Database &db, const QString &sessionId,
                                             const QList<QJsonObject> &prepared, const QString &receivedAt);

    // Two-phase form for callers that write other rows in the same transaction (session
    // create, session update): write() inside the caller's open transaction, publish() after
    // the caller's commit succeeded. Nothing is emitted by write().
    Result<QList<LoggedEvent>> write(const QString &sessionId, const QList<QJsonObject> &events);
    void publish(const QString &sessionId, const QList<LoggedEvent> &events);

    struct Filter
    {
        QStringList types;                                 // empty = all
        QString createdGt, createdGte, createdLt, createdLte; // RFC 3339 bounds, empty = none
    };
    // A page of the session's events in seq order (ascending = chronological). The cursor
    // remembers the order it was made for; reusing it with the other order is a 400.
    Result<Page> list(const QString &sessionId, const PageRequest &page, bool ascending,
                      const Filter &filter = {});
    // Every event with seq > afterSeq, ascending; at most `limit` of them when limit > 0.
    Result<QList<LoggedEvent>> since(const QString &sessionId, qint64 afterSeq, int limit = 0);
    // The seq of an event id (restricted to `sessionId` when given); nullopt when unknown.
    std::optional<qint64> seqOf(const QString &eventId, const QString &sessionId = {});
    // The type of an event of this session, empty when there is none with that id.
    QString typeOf(const QString &sessionId, const QString &eventId);
    // The highest seq of the session (0 when it has no events).
    Result<qint64> lastSeq(const QString &sessionId);
    // All events of the given types, ascending (session views derived from the log).
    Result<QList<QJsonObject>> ofTypes(const QString &sessionId, const QStringList &types);
    // Records that queued user events were consumed by the runtime (their processed_at). The log
    // is append-only, so this lives in `event_processed` and is overlaid on every read (list,
    // since, ofTypes). Runs inside the caller's transaction.
    // `atSeq` is the log position at which they were consumed.
    Status markProcessed(const QString &sessionId, const QStringList &eventIds, const QString &at,
                         qint64 atSeq);
    // Consumed queued events of the session: event id → log position where they were consumed.
    QHash<QString, qint64> consumedAt(const QString &sessionId);
    // Queued user events (processed_at null) the runtime has not consumed yet, ascending.
    Result<QList<LoggedEvent>> pending(const QString &sessionId);
    // Deletes the session's events; the caller holds the transaction (session delete).
    Status removeSession(const QString &sessionId);

    // Every persisted event type of the API (BetaManagedAgentsSessionEventType).
    static const QStringList &eventTypes();

Q_SIGNALS:
    void appended(const QString &sessionId, const QList<viv::LoggedEvent> &events);

private:
    // Fills in processed_at of queued events that the runtime has consumed since.
    void overlayProcessed(QJsonObject &event);

    Database &m_db;
    DocTable m_table;
    // Shared only so that the drain hook installed in the Database can tell it is gone (the
    // Backend destroys the Database before its services).
    std::shared_ptr<GroupCommit> m_group;
};

// Cursors that remember the list order they were issued for ("a."/"d." + DocTable cursor):
// reusing one with the other order is an error, as in the hosted API.
QString orderedCursor(bool ascending, const QString &cursor);
Result<QString> unwrapOrderedCursor(bool ascending, const QString &cursor);

} // namespace viv

Q_DECLARE_METATYPE(viv::LoggedEvent)
