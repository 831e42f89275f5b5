#pragma once

#include "ListEditorPage.h"

#include <QJsonObject>

class QTreeWidget;
class QTreeWidgetItem;

namespace viv {

class SandboxView;

// Every claimed sandbox (sessions' VMs and raw /v1/sandboxes ones) with its state and session,
// live from the sandbox manager; the selected one in a SandboxView; delete asks first. The warm
// pool's size is shown above the list.
class SandboxesPage : public ListEditorPage
{
    Q_OBJECT
public:
    SandboxesPage(BackendBridge &bridge, QWidget *parent = nullptr);
    SandboxView *sandboxView() const { return m_view; }
    QTreeWidget *list() const { return m_list; }

public Q_SLOTS:
    void reload();
    void deleteSelected();

Q_SIGNALS:
    void reloaded(int sandboxes);

private:
    // `title`: the session's title (empty: keep what is shown).
    void upsert(const QJsonObject &info, const QString &sessionId, const QString &title);
    QTreeWidgetItem *itemFor(const QString &id) const;
    void showWarmPool(int ready);
    void showAcceleration(const QJsonObject &acceleration);

    QTreeWidget *m_list = nullptr;
    QLabel *m_warm = nullptr;
    QLabel *m_accel = nullptr;
    QPushButton *m_delete = nullptr;
    SandboxView *m_view = nullptr;
};

} // namespace viv
