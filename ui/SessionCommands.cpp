#include "SessionCommands.h"

#include "Backend.h"
#include "BackendBridge.h"
#include "Widgets.h"
#include "services/SessionService.h"

#include <QInputDialog>
#include <QJsonObject>
#include <QLineEdit>

namespace viv {

SessionCommands::SessionCommands(BackendBridge &bridge, QWidget *parent)
    : QObject(parent), m_bridge(bridge), m_parent(parent)
{
}

void SessionCommands::rename(const QString &sessionId, const QString &title)
{
    if (sessionId.isEmpty())
        return;
    QInputDialog dialog(m_parent);
    dialog.setObjectName(QStringLiteral("renameSessionDialog"));
    dialog.setWindowTitle(tr("Rename session"));
    dialog.setLabelText(tr("Title (empty: named after its agent and start time):"));
    dialog.setInputMode(QInputDialog::TextInput);
    dialog.setTextValue(title);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const QString newTitle = dialog.textValue().trimmed();
    if (newTitle == title)
        return;
    const QJsonObject params{
        {QStringLiteral("title"), newTitle.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(newTitle)}};
    m_bridge.call<QJsonObject>(
        this, [sessionId, params](Backend &b) { return b.sessions().update(sessionId, params); },
        [this](Result<QJsonObject> r) {
            if (!r)
                return Q_EMIT failed(r.error());
            Q_EMIT done(tr("Renamed to “%1”.").arg(sessionDisplayTitle(*r)));
        });
}

void SessionCommands::archive(const QString &sessionId, const QString &shown)
{
    if (sessionId.isEmpty()
        || !confirm(m_parent, tr("Archive session"),
                    tr("Archive “%1”?\n\nIf the agent is working, it stops now. The session leaves the list "
                       "and can never run or take messages again; its repository tokens are removed from the "
                       "keychain. Its transcript is kept (readable through the API). This cannot be undone.")
                        .arg(shown)))
        return;
    m_bridge.callAsync<QJsonObject>(
        this, [sessionId](Backend &b, Callback<QJsonObject> done) { b.sessions().archive(sessionId, std::move(done)); },
        [this, shown](Result<QJsonObject> r) {
            if (!r)
                return Q_EMIT failed(r.error());
            Q_EMIT done(tr("“%1” archived.").arg(shown));
        });
}

void SessionCommands::remove(const QString &sessionId, const QString &shown)
{
    if (sessionId.isEmpty()
        || !confirm(m_parent, tr("Delete session"),
                    tr("Delete “%1” permanently?\n\nIts whole transcript (every event), its resources and their "
                       "keychain entries are deleted; scripts can no longer read it. This cannot be undone: "
                       "archive it instead to keep the transcript.")
                        .arg(shown)))
        return;
    m_bridge.callAsync<QJsonObject>(
        this, [sessionId](Backend &b, Callback<QJsonObject> done) { b.sessions().remove(sessionId, std::move(done)); },
        [this, shown](Result<QJsonObject> r) {
            if (!r)
                return Q_EMIT failed(r.error());
            Q_EMIT done(tr("“%1” deleted.").arg(shown));
        });
}

} // namespace viv
