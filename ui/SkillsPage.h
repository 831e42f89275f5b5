#pragma once

#include "ListEditorPage.h"

#include <QHash>

#include <functional>

class QTreeWidget;

namespace viv {

// Skills (SkillService, in process): the list of custom skills; a new skill or a new version
// uploaded from a folder (its top level holds SKILL.md) or a .zip of one; the versions of the
// selected skill; a version's contents (file tree and a read-only viewer of the selected file);
// which agents use the skill; delete (skill or version) with confirmation — the backend refuses
// one in use with a 409 whose message the banner shows.
class SkillsPage : public ListEditorPage
{
    Q_OBJECT
public:
    explicit SkillsPage(BackendBridge &bridge, QWidget *parent = nullptr);

    // Seam for tests: returns the folder (zip=false) or .zip file (zip=true) to upload, or empty
    // to cancel. Unset: QFileDialog.
    using PathChooser = std::function<QString(QWidget *parent, bool zip)>;
    static void setPathChooser(PathChooser chooser);

    QString currentSkillId() const;

private:
    void reload();
    void upsertSkill(const QJsonObject &skill, bool atEnd);
    void showSkill(const QString &id);
    void showVersion(const QString &versionId);
    void showFile();
    // Uploads a folder or a zip: a new skill (`skillId` empty) or a new version of it.
    void upload(bool zip, const QString &skillId);
    void deleteSkill();
    void deleteVersion();

    QListWidget *m_list = nullptr;
    QLabel *m_title = nullptr;
    QLabel *m_users = nullptr;
    QListWidget *m_versions = nullptr;
    QTreeWidget *m_files = nullptr;
    QPlainTextEdit *m_viewer = nullptr;
    QPushButton *m_delete = nullptr;
    QPushButton *m_newVersionFolder = nullptr;
    QPushButton *m_newVersionZip = nullptr;
    QPushButton *m_deleteVersion = nullptr;
    QHash<QString, QByteArray> m_contents; // the shown version's files by path
    QString m_shownVersion;
};

} // namespace viv
