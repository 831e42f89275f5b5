#pragma once

#include "SkillBundle.h"
#include "core/Result.h"
#include "store/DocTable.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QPair>
#include <QString>

#include <optional>

namespace viv {

class Database;

// Skills (`client.beta.skills`, `client.beta.skills.versions`): folders of instructions and
// files, uploaded as multipart (SkillBundle validates them), versioned.
//
// Storage: `skills` and `skill_versions` rows (schema v6); every file's bytes content-addressed
// at <dataDir>/skills/blobs/<sha256> (0600 in 0700 directories), written durably BEFORE the
// row that lists them is committed, so a row never names a missing blob; a crash in between
// leaves unreferenced blobs that the start-up sweep removes, as does deleting the last version
// that used a blob. A version's `manifest` lists [{path, sha256, size}], paths relative to the
// skill's folder.
//
// Version ids are decimal microseconds since the epoch (the hosted API's version numbers),
// strictly increasing across all skills, so an id alone names one version. `latest` (in
// version paths and agent references) is the newest version of the skill.
//
// Use: a skill referenced by a live (not archived) agent's version, or by a session that has
// not been deleted, cannot be deleted (409); neither can a version pinned by one. A skill always
// holds at least one version: deleting its only version is refused (delete the skill instead).
class SkillService : public QObject
{
    Q_OBJECT
public:
    SkillService(Database &db, QString skillsDir, QObject *parent = nullptr);

    // Where a session's skills are in its VM: <kMountRoot>/<name>/ (read-only; the skill's files
    // as uploaded, SKILL.md at the top), as the SDK's self-hosted worker lays them out under its
    // workdir's `skills/<name>/`.
    static constexpr QStringView kMountRoot = u"/mnt/skills";
    static QString mountPath(const QString &name) { return kMountRoot.toString() + u'/' + name; }

    // `displayName` nullopt: the SKILL.md `name`.
    Result<QJsonObject> create(QList<skills::File> files, const std::optional<QString> &displayName);
    Result<QJsonObject> retrieve(const QString &id);
    // Newest first. `source`: empty, "custom" or "anthropic" (no Anthropic skills are stored).
    Result<Page> list(const PageRequest &page, const QString &source);
    Result<QJsonObject> remove(const QString &id);

    Result<QJsonObject> createVersion(const QString &skillId, QList<skills::File> files);
    Result<Page> versions(const QString &skillId, const PageRequest &page);
    // `version`: a version id or "latest".
    Result<QJsonObject> version(const QString &skillId, const QString &version);
    Result<QJsonObject> removeVersion(const QString &skillId, const QString &version);
    // The version's files as a zip under the folder `<name>/`, and the archive's file name.
    Result<QPair<QString, QByteArray>> archive(const QString &skillId, const QString &version);

    // The agent `skills` entries (validate::skills' output) that a configuration may hold now:
    // every custom skill (and a pinned version) must exist; an `anthropic` skill must be one that
    // Vivarium bundles (BundledSkills: xlsx, docx, pptx, pdf), at version "latest".
    // `path` names the field (`skills`, `agent.skills`).
    Status checkReferences(const QJsonArray &skills, const QString &path);
    // The same entries with each custom `latest` replaced by the skill's current version id
    // (a session's agent, at session start).
    Result<QJsonArray> resolveLatest(const QJsonArray &skills, const QString &path);

    // One version of a skill as a session sees it.
    struct Loaded
    {
        QString skillId;
        QString versionId;
        QString name;
        QString description;
        QList<QPair<QString, QString>> files; // path relative to the skill's folder → blob path
    };
    Result<Loaded> load(const QString &skillId, const QString &version);
    // One entry of an agent's `skills` ({type, skill_id, version}): a custom skill's version, or
    // for `anthropic` Vivarium's bundled skill of that id (versionId "anthropic:<id>:<hash>").
    Result<Loaded> loadReference(const QJsonObject &reference);

    const QString &skillsDir() const { return m_dir; }

Q_SIGNALS:
    void changed(const QString &id);
    void removed(const QString &id);

private:
    struct VersionRow
    {
        QJsonObject doc;
        QJsonArray manifest;
    };
    std::optional<VersionRow> versionRow(const QString &skillId, const QString &version);
    Status storeBlobs(const QList<skills::File> &files, QJsonArray &manifest);
    QString nextVersionId();
    Result<QJsonObject> insertVersion(const QString &skillId, const skills::Bundle &bundle, const QString &now);
    // Who uses the skill (or, with a version id, that pinned version): a description, or empty.
    QString usedBy(const QString &skillId, const QString &versionId = {});
    void collectGarbage(const QJsonArray &manifest);
    void sweepOrphans();
    QString blobPath(const QString &sha256) const;

    Database &m_db;
    DocTable m_skills;
    DocTable m_versions;
    QString m_dir;
};

} // namespace viv
