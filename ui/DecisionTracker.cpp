#include "DecisionTracker.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "services/SessionService.h"

#include <QJsonArray>

namespace viv {

bool DecisionTracker::State::apply(const QJsonObject &e)
{
    const QString type = e.value(QStringLiteral("type")).toString();
    if (type == u"agent.tool_use" || type == u"agent.mcp_tool_use" || type == u"agent.custom_tool_use") {
        calls.insert(e.value(QStringLiteral("id")).toString(), Call{type, e.value(QStringLiteral("name")).toString()});
        return false;
    }
    if (type == u"user.tool_confirmation" || type == u"user.tool_result" || type == u"agent.tool_result") {
        pending.removeAll(e.value(QStringLiteral("tool_use_id")).toString());
        return false;
    }
    if (type == u"agent.mcp_tool_result") {
        pending.removeAll(e.value(QStringLiteral("mcp_tool_use_id")).toString());
        return false;
    }
    if (type == u"user.custom_tool_result") {
        pending.removeAll(e.value(QStringLiteral("custom_tool_use_id")).toString());
        return false;
    }
    if (type == u"session.status_idle") {
        const QJsonObject reason = e.value(QStringLiteral("stop_reason")).toObject();
        if (reason.value(QStringLiteral("type")).toString() != u"requires_action") {
            pending.clear();
            calls.clear();
            return false;
        }
        QStringList ids;
        for (const auto &v : reason.value(QStringLiteral("event_ids")).toArray())
            ids.append(v.toString());
        bool grew = false;
        for (const QString &id : std::as_const(ids))
            grew = grew || !pending.contains(id);
        pending = ids;
        return grew;
    }
    if (type == u"session.status_terminated") {
        pending.clear();
        calls.clear();
    }
    return false;
}

DecisionTracker::DecisionTracker(BackendBridge &bridge, QObject *parent) : QObject(parent), m_bridge(bridge)
{
    connect(&m_bridge, &BackendBridge::eventsAppended, this, &DecisionTracker::onAppended);
    connect(&m_bridge, &BackendBridge::sessionRemoved, this, [this](const QString &id) {
        if (m_states.take(id).pending.isEmpty())
            return;
        Q_EMIT changed(id, false);
    });
    connect(&m_bridge, &BackendBridge::sessionChanged, this, [this](const QString &id, const QJsonObject &s) {
        // An archived session never runs again: nothing of it waits.
        if (s.value(QStringLiteral("archived_at")).isNull() || !m_states.contains(id))
            return;
        if (!m_states.take(id).pending.isEmpty())
            Q_EMIT changed(id, false);
    });
}

void DecisionTracker::onAppended(const QString &sessionId, const QList<LoggedEvent> &events)
{
    State &state = m_states[sessionId];
    const bool before = !state.pending.isEmpty();
    bool grew = false;
    for (const LoggedEvent &e : events)
        grew = state.apply(e.event) || grew;
    const bool after = !state.pending.isEmpty();
    if (!after && state.calls.isEmpty())
        m_states.remove(sessionId);
    if (before != after)
        Q_EMIT changed(sessionId, after);
    if (grew && after)
        Q_EMIT asked(sessionId, tools(sessionId));
}

void DecisionTracker::reload()
{
    const quint64 generation = ++m_generation;
    m_bridge.call<QHash<QString, State>>(
        this,
        [](Backend &b) -> Result<QHash<QString, State>> {
            QHash<QString, State> out;
            auto sessions = BackendBridge::allPages([&](const PageRequest &r) {
                SessionService::ListQuery q;
                q.page = r;
                q.statuses = {QStringLiteral("idle")};
                return b.sessions().list(q);
            });
            if (!sessions)
                return sessions.error();
            for (const auto &v : *sessions) {
                const QString id = v.toObject().value(QStringLiteral("id")).toString();
                auto events = b.events().since(id, 0);
                if (!events)
                    continue;
                State state;
                for (const LoggedEvent &e : *events)
                    state.apply(e.event);
                if (!state.pending.isEmpty())
                    out.insert(id, state);
            }
            return out;
        },
        [this, generation](Result<QHash<QString, State>> r) {
            if (!r || generation != m_generation)
                return;
            const QStringList before = sessions();
            // Sessions not waiting keep the calls of their turn (a later requires_action names them).
            for (auto it = m_states.begin(); it != m_states.end(); ++it)
                it->pending.clear();
            for (auto it = r->begin(); it != r->end(); ++it)
                m_states.insert(it.key(), it.value());
            for (const QString &id : before)
                if (!needsYou(id))
                    Q_EMIT changed(id, false);
            for (const QString &id : sessions())
                if (!before.contains(id))
                    Q_EMIT changed(id, true);
            Q_EMIT reloaded();
        });
}

bool DecisionTracker::needsYou(const QString &sessionId) const
{
    const auto it = m_states.constFind(sessionId);
    return it != m_states.constEnd() && !it->pending.isEmpty();
}

QStringList DecisionTracker::sessions() const
{
    QStringList out;
    for (auto it = m_states.begin(); it != m_states.end(); ++it)
        if (!it->pending.isEmpty())
            out.append(it.key());
    return out;
}

QStringList DecisionTracker::tools(const QString &sessionId) const
{
    QStringList out;
    const State state = m_states.value(sessionId);
    for (const QString &id : state.pending)
        out.append(state.calls.value(id).name);
    return out;
}

} // namespace viv
