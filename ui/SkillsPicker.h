#pragma once

#include <QJsonArray>
#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QTableWidget;

namespace viv {

class BackendBridge;

// The agent designer's skills (`skills` of an agent): a table of the chosen custom skills, each
// with its version ("latest" or a pinned version id), chosen from the skills SkillService holds;
// at most kMaxSkills (the API's limit). Entries the picker does not edit (Anthropic's pre-built
// skills) are kept as they were.
class SkillsPicker : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kMaxSkills = 20;

    explicit SkillsPicker(BackendBridge &bridge, QWidget *parent = nullptr);

    void setSkills(const QJsonArray &skills);
    QJsonArray skills() const;
    // Whether the agent had skills when the form was filled (an emptied list must be sent).
    bool hadSkills() const { return m_hadSkills; }

Q_SIGNALS:
    void edited();

private:
    void reloadAvailable();
    void addRow(const QString &skillId, const QString &version);
    void fillVersions(QComboBox *combo, const QString &skillId, const QString &version);
    void updateState();

    BackendBridge &m_bridge;
    QTableWidget *m_table = nullptr;
    QComboBox *m_available = nullptr;
    QPushButton *m_add = nullptr;
    QPushButton *m_remove = nullptr;
    QLabel *m_count = nullptr;
    QJsonArray m_other; // entries kept as they are
    QHash<QString, QString> m_names;          // skill id → display name
    QHash<QString, QStringList> m_versions;   // skill id → version ids, newest first
    bool m_hadSkills = false;
};

} // namespace viv
