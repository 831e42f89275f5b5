#pragma once

#include "ListEditorPage.h"
#include "NewSessionDialog.h"

#include <QDialog>
#include <QJsonObject>
#include <QSortFilterProxyModel>
#include <QWidget>

class QSpinBox;
class QStandardItemModel;
class QTableView;

namespace viv {

class BackendBridge;
class DecisionTracker;
class MessageBanner;
class SessionCommands;
class SessionView;

// Filters the sessions list by status ("needs_you" for sessions waiting for a decision) and by
// text (title, agent, id).
class SessionFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setStatus(const QString &status);
    void setText(const QString &text);
    bool accepts(int sourceRow) const { return filterAcceptsRow(sourceRow, {}); }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_status;
    QString m_text;
};

class SessionsPage : public ListEditorPage
{
    Q_OBJECT
public:
    SessionsPage(BackendBridge &bridge, QWidget *parent = nullptr);
    SessionView *sessionView() const { return m_view; }
    QStandardItemModel *listModel() const { return m_model; }
    // Which sessions wait for a decision (the list's "needs you", the window's count).
    DecisionTracker *decisions() const { return m_decisions; }
    // The title the list shows for session `id` ("" when it is not listed).
    QString titleOf(const QString &id) const;

public Q_SLOTS:
    void reload();
    void openSession(const QString &id);
    // `agentId` pre-selects that agent in the dialog.
    void newSession(const QString &agentId = {});
    // Opens the next session (in list order, after the open one) that needs you; false if none.
    bool openNextNeedingYou();

private:
    void upsert(const QJsonObject &session, bool atEnd);
    int rowOf(const QString &id) const;
    void showStatus(int row);
    void showContextMenu(const QPoint &pos);

    QStandardItemModel *m_model = nullptr;
    SessionFilterModel *m_filter = nullptr;
    QTableView *m_table = nullptr;
    QComboBox *m_statusFilter = nullptr;
    QLineEdit *m_search = nullptr;
    SessionView *m_view = nullptr;
    DecisionTracker *m_decisions = nullptr;
    SessionCommands *m_commands = nullptr;
};

} // namespace viv
