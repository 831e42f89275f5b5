#pragma once

#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>

namespace viv {

// Work a higher layer finishes before a session thread reports idle (docs/DESIGN.md "Agent
// runtime → Before idle"): the sandbox registers its memory-mount sync and its outputs capture
// here, so that when a client sees session.status_idle the turn's memory writes are versions and
// its outputs are files. The runtime knows only this seam, never the sandbox.
//
// A hook gets the session id and a completion callback it must call once (asynchronously or
// at once; extra calls are ignored). run() calls every hook, in the order they were added, and
// reports once all have completed or the bound elapsed, whichever is first: a hung VM cannot
// keep a session running. A completion after the bound is ignored (the work itself goes on).
class BeforeIdleHooks
{
public:
    using Done = std::function<void()>;
    using Hook = std::function<void(const QString &sessionId, Done done)>;

    void add(const QString &name, Hook hook);
    bool isEmpty() const { return m_hooks.isEmpty(); }

    // Calls every hook for `sessionId`; `finished` is called exactly once: with no names when
    // every hook completed, else with the names of those that had not after `timeoutMs`. Returns
    // true when `finished` was already called (every hook completed before run() returned, or
    // there is none); then the caller may go on synchronously. `finished` is never called after
    // `context` is destroyed.
    bool run(const QString &sessionId, int timeoutMs, QObject *context,
             std::function<void(const QStringList &late)> finished) const;

private:
    struct Entry
    {
        QString name;
        Hook hook;
    };
    QList<Entry> m_hooks;
};

} // namespace viv
