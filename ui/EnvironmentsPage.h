#pragma once

#include <QHash>
#include <QJsonObject>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;

namespace viv {

class BackendBridge;
class KeyValueEditor;
class MessageBanner;

// Environments: networking (unrestricted, or limited to allowed hosts), packages per package
// manager, the base template, metadata. Save creates or updates; archive and delete ask first.
class EnvironmentsPage : public QWidget
{
    Q_OBJECT
public:
    EnvironmentsPage(BackendBridge &bridge, QWidget *parent = nullptr);
    QJsonObject formParams() const;

public Q_SLOTS:
    void reload();
    void newEnvironment();
    void openEnvironment(const QString &id);
    void save();
    void archive();
    void remove();

private:
    void fill(const QJsonObject &env);
    void upsert(const QString &id, const QJsonObject &env, bool atEnd);

    BackendBridge &m_bridge;
    QListWidget *m_list = nullptr;
    MessageBanner *m_banner = nullptr;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_description = nullptr;
    QComboBox *m_networking = nullptr;
    QPlainTextEdit *m_hosts = nullptr;
    QCheckBox *m_allowMcp = nullptr;
    QCheckBox *m_allowPackages = nullptr;
    QHash<QString, QLineEdit *> m_packages;
    QLineEdit *m_template = nullptr;
    KeyValueEditor *m_metadata = nullptr;
    QPushButton *m_save = nullptr;
    QPushButton *m_archive = nullptr;
    QPushButton *m_delete = nullptr;
    QString m_id;
    QJsonObject m_loadedMetadata;
};

} // namespace viv
