#include "GroupCommit.h"

#include "store/Database.h"

#include <QLoggingCategory>

#include <chrono>
#include <optional>
#include <utility>

Q_LOGGING_CATEGORY(lcGroup, "vivarium.groupcommit")

namespace viv {

GroupCommit::GroupCommit(const QString &databasePath, QObject *parent) : QObject(parent)
{
    m_thread = std::thread([this, databasePath] { run(databasePath); });
    std::unique_lock lock(m_mutex);
    m_progress.wait(lock, [this] { return m_openState != 0; });
    m_ok = m_openState > 0;
}

GroupCommit::~GroupCommit()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
        m_hold = false;
    }
    m_wake.notify_all();
    m_progress.notify_all();
    m_thread.join();
}

void GroupCommit::submit(const QString &sessionId, QList<QJsonObject> events, const QString &receivedAt, Done done)
{
    m_callbacks.push_back(std::move(done));
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back({sessionId, std::move(events), receivedAt});
        ++m_submitted;
    }
    m_wake.notify_one();
}

void GroupCommit::drain()
{
    {
        std::unique_lock lock(m_mutex);
        m_progress.wait(lock, [this] { return m_done == m_submitted; });
    }
    deliver();
}

void GroupCommit::deliver()
{
    std::deque<Outcome> finished;
    {
        std::lock_guard lock(m_mutex);
        finished.swap(m_finished);
    }
    // Outcomes arrive in submission order, like the callbacks.
    for (Outcome &o : finished) {
        Q_ASSERT(!m_callbacks.empty());
        m_ready.emplace_back(std::move(o), std::move(m_callbacks.front()));
        m_callbacks.pop_front();
    }
    // A callback may drain() again (it starts a transaction, say): that call continues this
    // same queue from its front, so callbacks still run exactly once each, in order.
    while (!m_ready.empty()) {
        auto next = std::move(m_ready.front());
        m_ready.pop_front();
        next.second(std::move(next.first));
    }
}

std::uint64_t GroupCommit::commits() const
{
    std::lock_guard lock(m_mutex);
    return m_commits;
}

std::uint64_t GroupCommit::waiting() const
{
    std::lock_guard lock(m_mutex);
    return m_submitted - m_done;
}

void GroupCommit::holdCommitsForTest(bool hold)
{
    {
        std::lock_guard lock(m_mutex);
        m_hold = hold;
    }
    m_progress.notify_all();
}

void GroupCommit::failNextCommitForTest()
{
    std::lock_guard lock(m_mutex);
    m_failNext = true;
}

void GroupCommit::run(const QString &path)
{
    // The connection is created, used and closed on this thread only (QtSql's rule).
    Database db;
    const Status opened = db.open(path);
    if (!opened)
        qCCritical(lcGroup).noquote() << "the group-commit writer cannot open the database:" << opened.error().message();
    {
        std::lock_guard lock(m_mutex);
        m_openState = opened ? 1 : -1;
    }
    m_progress.notify_all();
    if (!opened)
        return;

    for (;;) {
        std::deque<Job> group;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stop || !m_queue.empty(); });
            if (m_queue.empty())
                break; // stopping, and everything queued is committed
            group.swap(m_queue);
        }
        std::deque<Outcome> outcomes = commitGroup(db, group);
        {
            std::lock_guard lock(m_mutex);
            for (Outcome &o : outcomes)
                m_finished.push_back(std::move(o));
            m_done += group.size();
        }
        m_progress.notify_all();
        QMetaObject::invokeMethod(this, "deliver", Qt::QueuedConnection);
    }
}

std::deque<GroupCommit::Outcome> GroupCommit::commitGroup(Database &db, std::deque<Job> &group)
{
    std::deque<Outcome> outcomes;
    if (!db.begin()) {
        for (size_t i = 0; i < group.size(); ++i)
            outcomes.push_back(ApiError::internal(QStringLiteral("cannot begin a transaction on the event log")));
        return outcomes;
    }
    bool anyWritten = false;
    for (const Job &job : group) {
        // Each append in its own savepoint: one that fails (a constraint, say) leaves the
        // others of the group in place.
        if (auto s = db.exec(QStringLiteral("SAVEPOINT append")); !s) {
            outcomes.push_back(s.error());
            continue;
        }
        auto written = EventLog::insert(db, job.sessionId, job.events, job.receivedAt);
        if (!written)
            (void)db.exec(QStringLiteral("ROLLBACK TO append"));
        (void)db.exec(QStringLiteral("RELEASE append"));
        anyWritten = anyWritten || written.ok();
        outcomes.push_back(std::move(written));
    }

    bool fail = false;
    {
        std::unique_lock lock(m_mutex);
        m_progress.wait_for(lock, std::chrono::seconds(10), [this] { return !m_hold || m_stop; });
        fail = std::exchange(m_failNext, false);
    }
    std::optional<ApiError> commitFailed;
    if (fail) {
        db.rollback();
        commitFailed = ApiError::unavailable(
            QStringLiteral("the event log failed to commit: injected failure (test hook)"));
    } else if (!db.commit()) {
        commitFailed = db.commitError(QStringLiteral("the event log"));
        db.rollback();
    } else if (anyWritten) {
        std::lock_guard lock(m_mutex);
        ++m_commits;
    }
    if (commitFailed) {
        for (Outcome &o : outcomes) {
            if (o)
                o = *commitFailed; // nothing of the group is durable: every append fails
        }
    }
    return outcomes;
}

} // namespace viv
