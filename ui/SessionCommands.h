#pragma once

#include "core/ApiError.h"

#include <QObject>
#include <QString>

class QWidget;

namespace viv {

class BackendBridge;

// Rename, archive and delete a session — from the session view's header menu and from the
// sessions list's context menu. Archive and delete ask first, stating what follows; rename asks
// for the new title (a QInputDialog named "renameSessionDialog"; an empty title makes the
// session untitled again). Results and errors are signalled for the caller's banner.
class SessionCommands : public QObject
{
    Q_OBJECT
public:
    SessionCommands(BackendBridge &bridge, QWidget *parent);

    // `title`: the session's stored title ("" when untitled); `shown`: what the user sees.
    void rename(const QString &sessionId, const QString &title);
    void archive(const QString &sessionId, const QString &shown);
    void remove(const QString &sessionId, const QString &shown);

Q_SIGNALS:
    void done(const QString &message);
    void failed(const viv::ApiError &error);

private:
    BackendBridge &m_bridge;
    QWidget *m_parent;
};

} // namespace viv
