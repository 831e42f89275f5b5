#pragma once

#include "core/Result.h"
#include "services/EventLog.h"

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace viv {

// Group commit of event appends (docs/DESIGN.md "Durable appends: group commit").
//
// One writer thread owns a second SQLite connection to the database file (synchronous=FULL like
// the first). Appends are queued from the owning (backend) thread with submit(); the writer takes
// every append queued while its previous commit was in flight and writes them in ONE
// transaction — each in its own SAVEPOINT, so a failing append fails alone — and commits once:
// one fsync for the whole group. Only then is each append's `done` run, back on the owning
// thread, in submission order. Until its commit returned, nobody hears of an event.
//
// Threading, kept small on purpose: the two threads share only the members marked "guarded"
// below, always under m_mutex; jobs and outcomes cross by value (QString/QJsonObject copies are
// safe across threads). Callbacks never leave the owning thread. The writer never waits for the
// owning thread, so the owning thread may block on it (drain()) without a deadlock.
class GroupCommit : public QObject
{
    Q_OBJECT
public:
    using Done = std::function<void(Result<QList<LoggedEvent>>)>;

    // Starts the writer and waits until its connection is open (or failed: ok() is false and
    // submit() must not be used).
    explicit GroupCommit(const QString &databasePath, QObject *parent = nullptr);
    // Stops the writer after it committed what is queued; callbacks not run yet are dropped.
    ~GroupCommit() override;
    GroupCommit(const GroupCommit &) = delete;
    GroupCommit &operator=(const GroupCommit &) = delete;

    bool ok() const { return m_ok; }

    // Queues prepared events (EventLog::prepare) of one session. `done` runs on this object's
    // thread after the commit that holds them — or with the error that kept them out.
    void submit(const QString &sessionId, QList<QJsonObject> events, const QString &receivedAt, Done done);
    // Blocks until every append submitted so far is committed (or failed), then runs their
    // callbacks (and any still waiting from earlier commits), in order.
    void drain();

    // Diagnostics and tests.
    std::uint64_t commits() const;   // transactions the writer committed
    std::uint64_t waiting() const;   // appends submitted and not committed yet
    // While held, the writer stops after writing a group, before its COMMIT (at most 10 s per
    // group): a test can show that no answer leaves before the commit.
    void holdCommitsForTest(bool hold);
    // The next group is rolled back instead of committed, as if COMMIT had failed.
    void failNextCommitForTest();

private:
    struct Job
    {
        QString sessionId;
        QList<QJsonObject> events;
        QString receivedAt;
    };
    using Outcome = Result<QList<LoggedEvent>>;

    void run(const QString &path);               // the writer thread
    std::deque<Outcome> commitGroup(Database &db, std::deque<Job> &group);
    // Owning thread: runs finished callbacks. The writer wakes it with a queued call by name
    // (tst_api_group_commit fails if the name is wrong), which carries nothing: the outcomes
    // cross in m_finished under m_mutex, which ThreadSanitizer sees; a queued lambda would cross
    // inside Qt's event queue, which it cannot (docs/DESIGN.md "ThreadSanitizer").
    Q_INVOKABLE void deliver();

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;     // writer: work queued, or stop
    std::condition_variable m_progress; // owners: connection opened, a group finished, hold lifted
    // guarded by m_mutex:
    std::deque<Job> m_queue;
    std::deque<Outcome> m_finished;
    std::uint64_t m_submitted = 0;
    std::uint64_t m_done = 0;
    std::uint64_t m_commits = 0;
    int m_openState = 0; // 0 opening, 1 open, -1 failed
    bool m_stop = false;
    bool m_hold = false;
    bool m_failNext = false;

    // owning thread only:
    bool m_ok = false;
    std::deque<Done> m_callbacks;                   // one per submitted job, in order
    std::deque<std::pair<Outcome, Done>> m_ready;   // finished, callback not run yet

    std::thread m_thread; // last: started when everything above exists
};

} // namespace viv
