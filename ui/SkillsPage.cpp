#include "SkillsPage.h"

#include "Backend.h"
#include "Widgets.h"
#include "ZipReader.h"
#include "services/AgentService.h"
#include "services/SkillService.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace viv {

namespace {
SkillsPage::PathChooser &chooser()
{
    static SkillsPage::PathChooser fn;
    return fn;
}

constexpr int kPathRole = Qt::UserRole;

// The files of a folder as one upload: paths "<folder>/<relative path>" (the API's one
// top-level directory).
Result<QList<skills::File>> folderFiles(const QString &dir)
{
    QList<skills::File> files;
    const QDir root(dir);
    const QString top = QFileInfo(dir).fileName();
    QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly))
            return ApiError::invalid(SkillsPage::tr("Cannot read %1: %2").arg(path, f.errorString()));
        files.append({top + u'/' + root.relativeFilePath(path), f.readAll()});
    }
    return files;
}

Result<QList<skills::File>> zipFiles(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return ApiError::invalid(SkillsPage::tr("Cannot read %1: %2").arg(path, f.errorString()));
    QString error;
    const QList<ZipEntry> entries = readZip(f.readAll(), &error);
    if (!error.isEmpty())
        return ApiError::invalid(error);
    QList<skills::File> files;
    for (const ZipEntry &e : entries)
        files.append({e.path, e.bytes});
    return files;
}

bool looksBinary(const QByteArray &bytes)
{
    return bytes.left(8192).contains('\0');
}
} // namespace

void SkillsPage::setPathChooser(PathChooser fn)
{
    chooser() = std::move(fn);
}

SkillsPage::SkillsPage(BackendBridge &bridge, QWidget *parent)
    : ListEditorPage(bridge, QStringLiteral("skillsPage"), QStringLiteral("skillsBanner"), parent)
{
    auto [left, leftLayout] = addColumn();
    m_list = named(new QListWidget(left), QStringLiteral("skillList"));
    auto *fromFolder = named(new QPushButton(tr("New from folder…"), left), QStringLiteral("uploadSkillFolder"));
    fromFolder->setToolTip(tr("Upload a folder whose top level holds SKILL.md as a new skill"));
    auto *fromZip = named(new QPushButton(tr("New from zip…"), left), QStringLiteral("uploadSkillZip"));
    fromZip->setToolTip(tr("Upload a .zip of a skill folder as a new skill"));
    m_delete = named(new QPushButton(tr("Delete…"), left), QStringLiteral("deleteSkill"));
    m_delete->setEnabled(false);
    leftLayout->addWidget(banner());
    leftLayout->addWidget(m_list, 1);
    leftLayout->addLayout(buttonRow({fromFolder, fromZip}, {m_delete}));

    auto [right, rightLayout] = addColumn();
    m_title = named(new QLabel(tr("Select a skill, or upload one."), right), QStringLiteral("skillTitle"));
    m_title->setWordWrap(true);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_users = named(new QLabel(right), QStringLiteral("skillUsers"));
    m_users->setWordWrap(true);
    m_versions = named(new QListWidget(right), QStringLiteral("skillVersions"));
    m_versions->setMaximumHeight(140);
    m_newVersionFolder = named(new QPushButton(tr("New version from folder…"), right), QStringLiteral("newSkillVersionFolder"));
    m_newVersionZip = named(new QPushButton(tr("New version from zip…"), right), QStringLiteral("newSkillVersionZip"));
    m_deleteVersion = named(new QPushButton(tr("Delete version…"), right), QStringLiteral("deleteSkillVersion"));
    auto *contents = new QSplitter(Qt::Horizontal, right);
    m_files = named(new QTreeWidget(contents), QStringLiteral("skillFiles"));
    m_files->setHeaderLabels({tr("File"), tr("Size")});
    m_viewer = named(new QPlainTextEdit(contents), QStringLiteral("skillFileView"));
    m_viewer->setReadOnly(true);
    m_viewer->setLineWrapMode(QPlainTextEdit::NoWrap);
    contents->setSizes({260, 520});
    rightLayout->addWidget(m_title);
    rightLayout->addWidget(m_users);
    rightLayout->addWidget(new QLabel(tr("Versions (newest first):"), right));
    rightLayout->addWidget(m_versions);
    // Two rows: the column stays narrow enough for an 800×600 window.
    rightLayout->addLayout(buttonRow({m_newVersionFolder, m_newVersionZip}, {}));
    rightLayout->addLayout(buttonRow({}, {m_deleteVersion}));
    rightLayout->addWidget(contents, 1);
    for (QWidget *w : {static_cast<QWidget *>(m_newVersionFolder), static_cast<QWidget *>(m_newVersionZip),
                       static_cast<QWidget *>(m_deleteVersion)})
        w->setEnabled(false);
    setColumnSizes({300, 800});

    connect(fromFolder, &QPushButton::clicked, this, [this] { upload(false, {}); });
    connect(fromZip, &QPushButton::clicked, this, [this] { upload(true, {}); });
    connect(m_newVersionFolder, &QPushButton::clicked, this, [this] { upload(false, currentSkillId()); });
    connect(m_newVersionZip, &QPushButton::clicked, this, [this] { upload(true, currentSkillId()); });
    connect(m_delete, &QPushButton::clicked, this, &SkillsPage::deleteSkill);
    connect(m_deleteVersion, &QPushButton::clicked, this, &SkillsPage::deleteVersion);
    connect(m_list, &QListWidget::currentItemChanged, this, [this](QListWidgetItem *item) {
        showSkill(item ? item->data(Qt::UserRole).toString() : QString());
    });
    connect(m_versions, &QListWidget::currentItemChanged, this, [this](QListWidgetItem *item) {
        showVersion(item ? item->data(Qt::UserRole).toString() : QString());
    });
    connect(m_files, &QTreeWidget::currentItemChanged, this, &SkillsPage::showFile);
    connect(&m_bridge, &BackendBridge::ready, this, &SkillsPage::reload);
    connect(&m_bridge, &BackendBridge::skillChanged, this, [this](const QString &id) {
        request<QJsonObject>([id](Backend &b) { return b.skills().retrieve(id); },
                             [this, id](const QJsonObject &skill) {
                                 upsertSkill(skill, false);
                                 if (id == currentSkillId())
                                     showSkill(id);
                             });
    });
    connect(&m_bridge, &BackendBridge::skillRemoved, this, [this](const QString &id) {
        const bool shown = id == currentSkillId();
        removeItem(m_list, id);
        if (shown)
            showSkill(currentSkillId());
    });
    // Who uses a skill changes with the agents.
    connect(&m_bridge, &BackendBridge::agentChanged, this, [this] {
        if (!currentSkillId().isEmpty())
            showSkill(currentSkillId());
    });
    if (m_bridge.isReady())
        reload();
}

QString SkillsPage::currentSkillId() const
{
    return m_list->currentItem() ? m_list->currentItem()->data(Qt::UserRole).toString() : QString();
}

void SkillsPage::reload()
{
    reloadList(
        m_list, [](Backend &b, const PageRequest &r) { return b.skills().list(r, {}); },
        [this](const QJsonObject &skill) { upsertSkill(skill, true); });
}

void SkillsPage::upsertSkill(const QJsonObject &skill, bool atEnd)
{
    const QString id = skill.value(QStringLiteral("id")).toString();
    upsertItem(m_list, id, skill.value(QStringLiteral("display_name")).toString(), false, atEnd, currentSkillId());
    if (const int row = rowOf(m_list, id); row >= 0)
        m_list->item(row)->setToolTip(id);
}

void SkillsPage::showSkill(const QString &id)
{
    m_delete->setEnabled(!id.isEmpty());
    m_newVersionFolder->setEnabled(!id.isEmpty());
    m_newVersionZip->setEnabled(!id.isEmpty());
    if (id.isEmpty()) {
        m_title->setText(tr("Select a skill, or upload one."));
        m_users->clear();
        m_versions->clear();
        showVersion({});
        return;
    }
    struct Info
    {
        QJsonObject skill;
        QJsonArray versions;
        QStringList users;
    };
    request<Info>(
        [id](Backend &b) -> Result<Info> {
            Info info;
            auto skill = b.skills().retrieve(id);
            if (!skill)
                return skill.error();
            info.skill = *skill;
            auto versions = BackendBridge::allPages([&](const PageRequest &r) { return b.skills().versions(id, r); });
            if (!versions)
                return versions.error();
            info.versions = *versions;
            // Live agents whose current version lists the skill.
            auto agents = BackendBridge::allPages([&](const PageRequest &r) { return b.agents().list(r, false); });
            if (!agents)
                return agents.error();
            for (const QJsonValue &a : std::as_const(*agents)) {
                const QJsonObject agent = a.toObject();
                for (const QJsonValue &s : agent.value(QStringLiteral("skills")).toArray()) {
                    const QJsonObject ref = s.toObject();
                    if (ref.value(QStringLiteral("skill_id")).toString() != id)
                        continue;
                    const QString version = ref.value(QStringLiteral("version")).toString();
                    info.users << tr("%1 (version %2, skill version %3)")
                                      .arg(agent.value(QStringLiteral("name")).toString())
                                      .arg(agent.value(QStringLiteral("version")).toInt())
                                      .arg(version.isEmpty() ? QStringLiteral("latest") : version);
                }
            }
            return info;
        },
        [this, id](const Info &info) {
            if (id != currentSkillId())
                return;
            m_title->setText(tr("<b>%1</b> — %2").arg(info.skill.value(QStringLiteral("display_name")).toString().toHtmlEscaped(), id));
            m_users->setText(info.users.isEmpty() ? tr("Used by no agent.")
                                                  : tr("Used by: %1").arg(info.users.join(QStringLiteral("; "))));
            const QString keep = m_shownVersion;
            {
                const QSignalBlocker block(m_versions);
                m_versions->clear();
                for (const QJsonValue &v : info.versions) {
                    const QJsonObject version = v.toObject();
                    const QString vid = version.value(QStringLiteral("id")).toString();
                    auto *item = new QListWidgetItem(tr("%1 · %2 · %3")
                                                         .arg(vid, localTime(version.value(QStringLiteral("created_at")).toString()),
                                                              version.value(QStringLiteral("name")).toString()),
                                                     m_versions);
                    item->setData(Qt::UserRole, vid);
                    item->setToolTip(version.value(QStringLiteral("description")).toString());
                }
            }
            const int row = rowOf(m_versions, keep);
            m_versions->setCurrentRow(row >= 0 ? row : 0);
            if (m_versions->count() == 0)
                showVersion({});
        });
}

void SkillsPage::showVersion(const QString &versionId)
{
    m_deleteVersion->setEnabled(!versionId.isEmpty() && m_versions->count() > 1);
    if (versionId.isEmpty()) {
        m_shownVersion.clear();
        m_contents.clear();
        m_files->clear();
        m_viewer->clear();
        return;
    }
    const QString skillId = currentSkillId();
    request<QList<ZipEntry>>(
        [skillId, versionId](Backend &b) -> Result<QList<ZipEntry>> {
            auto loaded = b.skills().load(skillId, versionId);
            if (!loaded)
                return loaded.error();
            QList<ZipEntry> files;
            for (const auto &[path, blob] : std::as_const(loaded->files)) {
                QFile f(blob);
                if (!f.open(QIODevice::ReadOnly))
                    return ApiError::internal(tr("A stored file of the skill cannot be read: %1").arg(f.errorString()));
                files.append({path, f.readAll()});
            }
            return files;
        },
        [this, skillId, versionId](const QList<ZipEntry> &files) {
            if (skillId != currentSkillId())
                return;
            const QString selected = m_files->currentItem() ? m_files->currentItem()->data(0, kPathRole).toString()
                                                            : QStringLiteral("SKILL.md");
            m_shownVersion = versionId;
            m_contents.clear();
            const QSignalBlocker block(m_files);
            m_files->clear();
            QHash<QString, QTreeWidgetItem *> folders;
            QTreeWidgetItem *select = nullptr;
            QTreeWidgetItem *skillMd = nullptr; // shown when the selected file is not in this version
            for (const ZipEntry &f : files) {
                m_contents.insert(f.path, f.bytes);
                const QStringList parts = f.path.split(u'/');
                QTreeWidgetItem *parent = nullptr;
                QString prefix;
                for (int i = 0; i + 1 < parts.size(); ++i) {
                    prefix += parts[i] + u'/';
                    QTreeWidgetItem *&folder = folders[prefix];
                    if (!folder) {
                        folder = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(m_files);
                        folder->setText(0, parts[i]);
                        folder->setExpanded(true);
                    }
                    parent = folder;
                }
                auto *item = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(m_files);
                item->setText(0, parts.last());
                item->setText(1, locale().formattedDataSize(f.bytes.size()));
                item->setData(0, kPathRole, f.path);
                if (f.path == selected)
                    select = item;
                if (f.path == u"SKILL.md")
                    skillMd = item;
            }
            m_files->expandAll();
            m_files->setCurrentItem(select ? select : skillMd);
            showFile();
        });
}

void SkillsPage::showFile()
{
    QTreeWidgetItem *item = m_files->currentItem();
    const QString path = item ? item->data(0, kPathRole).toString() : QString();
    if (path.isEmpty()) {
        m_viewer->clear();
        return;
    }
    const QByteArray bytes = m_contents.value(path);
    m_viewer->setPlainText(looksBinary(bytes) ? tr("(binary file, %1)").arg(locale().formattedDataSize(bytes.size()))
                                              : QString::fromUtf8(bytes));
}

void SkillsPage::upload(bool zip, const QString &skillId)
{
    const QString path = chooser() ? chooser()(this, zip)
                         : zip     ? QFileDialog::getOpenFileName(this, tr("Upload a skill (.zip)"), QDir::homePath(),
                                                                  tr("Zip archives (*.zip)"))
                                   : QFileDialog::getExistingDirectory(this, tr("Upload a skill folder"), QDir::homePath());
    if (path.isEmpty())
        return;
    banner()->clear();
    request<QJsonObject>(
        [path, zip, skillId](Backend &b) -> Result<QJsonObject> {
            auto files = zip ? zipFiles(path) : folderFiles(path);
            if (!files)
                return files.error();
            if (skillId.isEmpty())
                return b.skills().create(std::move(*files), std::nullopt);
            return b.skills().createVersion(skillId, std::move(*files));
        },
        [this, skillId](const QJsonObject &doc) {
            if (skillId.isEmpty()) {
                upsertSkill(doc, false);
                selectItem(m_list, doc.value(QStringLiteral("id")).toString(), false);
                banner()->showInfo(tr("Skill %1 uploaded.").arg(doc.value(QStringLiteral("display_name")).toString()));
            } else {
                m_shownVersion = doc.value(QStringLiteral("id")).toString();
                showSkill(skillId);
                banner()->showInfo(tr("Version %1 uploaded.").arg(m_shownVersion));
            }
        });
}

void SkillsPage::deleteSkill()
{
    const QString id = currentSkillId();
    if (id.isEmpty())
        return;
    const QString name = m_list->currentItem()->text();
    if (!confirm(this, tr("Delete skill"), tr("Delete the skill %1 with all its versions? This cannot be undone.").arg(name)))
        return;
    request<QJsonObject>([id](Backend &b) { return b.skills().remove(id); },
                         [this, id, name](const QJsonObject &) {
                             removeItem(m_list, id);
                             banner()->showInfo(tr("Skill %1 deleted.").arg(name));
                         },
                         m_delete);
}

void SkillsPage::deleteVersion()
{
    const QString id = currentSkillId();
    const QString version = m_shownVersion;
    if (id.isEmpty() || version.isEmpty())
        return;
    if (!confirm(this, tr("Delete version"), tr("Delete version %1 of this skill? This cannot be undone.").arg(version)))
        return;
    request<QJsonObject>([id, version](Backend &b) { return b.skills().removeVersion(id, version); },
                         [this, id, version](const QJsonObject &) {
                             m_shownVersion.clear();
                             showSkill(id);
                             banner()->showInfo(tr("Version %1 deleted.").arg(version));
                         },
                         m_deleteVersion);
}

} // namespace viv
