#include "BeforeIdleHooks.h"

#include <QPointer>
#include <QTimer>

#include <memory>
#include <utility>

namespace viv {

void BeforeIdleHooks::add(const QString &name, Hook hook)
{
    m_hooks.append(Entry{name, std::move(hook)});
}

bool BeforeIdleHooks::run(const QString &sessionId, int timeoutMs, QObject *context,
                          std::function<void(const QStringList &late)> finished) const
{
    struct Join
    {
        QStringList waiting; // names of the hooks that have not completed
        QList<bool> completed;
        bool fired = false;
        QPointer<QObject> context;
        std::function<void(const QStringList &)> finished;
        void fire(const QStringList &late)
        {
            if (fired)
                return;
            fired = true;
            auto f = std::move(finished);
            if (context)
                f(late);
        }
    };
    auto join = std::make_shared<Join>();
    join->context = context;
    join->finished = std::move(finished);
    for (const Entry &e : m_hooks) {
        join->waiting << e.name;
        join->completed << false;
    }
    // Held while the hooks are called: a hook completing at once must not fire before the
    // later ones were even called.
    join->waiting << QString();
    for (qsizetype i = 0; i < m_hooks.size(); ++i) {
        const QString name = m_hooks.at(i).name;
        m_hooks.at(i).hook(sessionId, [join, i, name] {
            if (join->fired || join->completed.at(i))
                return;
            join->completed[i] = true;
            join->waiting.removeOne(name);
            if (join->waiting.isEmpty())
                join->fire({});
        });
    }
    join->waiting.removeOne(QString());
    if (join->waiting.isEmpty()) {
        join->fire({});
        return true;
    }
    QTimer::singleShot(qMax(0, timeoutMs), context, [join] { join->fire(join->waiting); });
    return false;
}

} // namespace viv
