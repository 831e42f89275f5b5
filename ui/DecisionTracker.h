#pragma once

#include "services/EventLog.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QStringList>

namespace viv {

class BackendBridge;

// Which sessions wait for a person's decision — a tool call to approve or deny, a custom tool's
// result to send — across every session, not only the one open. Follows the event log live
// (BackendBridge::eventsAppended) with the rule the backend applies (PendingAnswers.h): the ids
// of the latest `session.status_idle` with `requires_action`, minus those answered since; an
// idle for another reason, or terminated, ends the wait. reload() reads the logs of the idle
// sessions (backend thread) for the state at start.
class DecisionTracker : public QObject
{
    Q_OBJECT
public:
    struct Call
    {
        QString type; // agent.tool_use, agent.mcp_tool_use, agent.custom_tool_use
        QString name; // the tool
    };
    struct State
    {
        QHash<QString, Call> calls; // the calls of the turn in progress, by event id
        QStringList pending;        // ids awaiting a decision, in order
        // Applies one committed event; true when the set of pending ids grew.
        bool apply(const QJsonObject &event);
    };

    explicit DecisionTracker(BackendBridge &bridge, QObject *parent = nullptr);

    void reload();
    bool needsYou(const QString &sessionId) const;
    // Sessions that need you (no particular order).
    QStringList sessions() const;
    int count() const { return int(sessions().size()); }
    // The tools the session waits on, in order.
    QStringList tools(const QString &sessionId) const;

Q_SIGNALS:
    // The session started or stopped needing you.
    void changed(const QString &sessionId, bool needsYou);
    // A live event asked the user for (more) decisions: `tools` names the calls now waiting.
    void asked(const QString &sessionId, const QStringList &tools);
    // reload() finished.
    void reloaded();

private:
    void onAppended(const QString &sessionId, const QList<LoggedEvent> &events);

    BackendBridge &m_bridge;
    QHash<QString, State> m_states;
    quint64 m_generation = 0;
};

} // namespace viv
