#pragma once

#include "ListEditorPage.h"

#include <QDialog>
#include <QJsonObject>
#include <QSortFilterProxyModel>
#include <QWidget>

class QSpinBox;
class QStandardItemModel;
class QTableView;

namespace viv {

class BackendBridge;
class MessageBanner;
class SessionView;

// Filters the sessions list by status and by text (title, agent, id).
class SessionFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setStatus(const QString &status);
    void setText(const QString &text);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_status;
    QString m_text;
};

// New session: agent and version, environment, vaults, title. Creates the session itself and
// shows a backend error inside the dialog, where the user acted.
class NewSessionDialog : public QDialog
{
    Q_OBJECT
public:
    NewSessionDialog(BackendBridge &bridge, QWidget *parent = nullptr);
    QString createdSessionId() const { return m_created; }

public Q_SLOTS:
    void accept() override;

private:
    BackendBridge &m_bridge;
    QComboBox *m_agent = nullptr;
    QSpinBox *m_version = nullptr;
    QComboBox *m_environment = nullptr;
    QListWidget *m_vaults = nullptr;
    QLineEdit *m_title = nullptr;
    MessageBanner *m_banner = nullptr;
    QString m_created;
};

class SessionsPage : public ListEditorPage
{
    Q_OBJECT
public:
    SessionsPage(BackendBridge &bridge, QWidget *parent = nullptr);
    SessionView *sessionView() const { return m_view; }
    QStandardItemModel *listModel() const { return m_model; }

public Q_SLOTS:
    void reload();
    void openSession(const QString &id);
    void newSession();

private:
    void upsert(const QJsonObject &session, bool atEnd);

    QStandardItemModel *m_model = nullptr;
    SessionFilterModel *m_filter = nullptr;
    QTableView *m_table = nullptr;
    QComboBox *m_statusFilter = nullptr;
    QLineEdit *m_search = nullptr;
    SessionView *m_view = nullptr;
};

} // namespace viv
