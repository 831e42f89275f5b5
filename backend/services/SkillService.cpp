#include "SkillService.h"

#include "BundledSkills.h"

#include "core/Clock.h"
#include "core/Ids.h"
#include "store/Database.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QFile>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSaveFile>
#include <QSet>

#include <chrono>

#include <fcntl.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcSkills, "vivarium.skills")

namespace viv {

namespace {

const QString kId = QStringLiteral("id");
const QString kLatest = QStringLiteral("latest");

bool syncDirectory(const QString &dir)
{
    const int fd = ::open(QFile::encodeName(dir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

QJsonArray parseArray(const QString &json)
{
    return QJsonDocument::fromJson(json.toUtf8()).array();
}

QString serializeArray(const QJsonArray &a)
{
    return QString::fromUtf8(QJsonDocument(a).toJson(QJsonDocument::Compact));
}

ApiError skillNotFound(const QString &id)
{
    return ApiError::notFound(QStringLiteral("skill %1 not found").arg(id));
}

} // namespace

SkillService::SkillService(Database &db, QString skillsDir, QObject *parent)
    : QObject(parent), m_db(db), m_skills(db, QStringLiteral("skills")),
      m_versions(db, QStringLiteral("skill_versions")), m_dir(std::move(skillsDir))
{
    if (!QDir().mkpath(m_dir + QStringLiteral("/blobs")))
        qCWarning(lcSkills) << "cannot create skills directory" << m_dir;
    QFile::setPermissions(m_dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    QFile::setPermissions(m_dir + QStringLiteral("/blobs"), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    sweepOrphans();
}

QString SkillService::blobPath(const QString &sha256) const
{
    return m_dir + QStringLiteral("/blobs/") + sha256;
}

Status SkillService::storeBlobs(const QList<skills::File> &files, QJsonArray &manifest)
{
    const QString dir = m_dir + QStringLiteral("/blobs");
    if (!QDir().mkpath(dir))
        return ApiError::internal(QStringLiteral("cannot create the skills directory"));
    bool wrote = false;
    for (const skills::File &f : files) {
        const QString sha = QString::fromLatin1(QCryptographicHash::hash(f.bytes, QCryptographicHash::Sha256).toHex());
        manifest.append(QJsonObject{{QStringLiteral("path"), f.path},
                                    {QStringLiteral("sha256"), sha},
                                    {QStringLiteral("size"), qint64(f.bytes.size())}});
        const QString path = blobPath(sha);
        if (QFileInfo(path).size() == f.bytes.size() && QFile::exists(path))
            continue; // the same content is stored already
        QSaveFile out(path);
        if (!out.open(QIODevice::WriteOnly) || !out.setPermissions(QFile::ReadOwner | QFile::WriteOwner)
            || out.write(f.bytes) != f.bytes.size()) {
            const QString err = out.errorString();
            out.cancelWriting();
            return ApiError::internal(QStringLiteral("cannot store the skill's files: %1").arg(err));
        }
        if (!out.commit())
            return ApiError::internal(QStringLiteral("cannot store the skill's files: %1").arg(out.errorString()));
        wrote = true;
    }
    if (wrote && !syncDirectory(dir))
        qCWarning(lcSkills) << "fsync of" << dir << "failed";
    return Ok{};
}

QString SkillService::nextVersionId()
{
    qint64 id = qint64(std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
    QSqlQuery q = m_db.query(QStringLiteral("SELECT MAX(CAST(id AS INTEGER)) FROM skill_versions"));
    if (m_db.exec(q) && q.next() && !q.value(0).isNull())
        id = std::max(id, q.value(0).toLongLong() + 1);
    return QString::number(id);
}

Result<QJsonObject> SkillService::insertVersion(const QString &skillId, const skills::Bundle &bundle,
                                                const QString &now)
{
    QJsonArray manifest;
    if (auto s = storeBlobs(bundle.files, manifest); !s)
        return s.error();
    const QString versionId = nextVersionId();
    const QJsonObject doc{{kId, versionId},
                          {QStringLiteral("type"), QStringLiteral("skill_version")},
                          {QStringLiteral("skill_id"), skillId},
                          {QStringLiteral("created_at"), now},
                          {QStringLiteral("name"), bundle.name},
                          {QStringLiteral("description"), bundle.description}};
    if (auto s = m_versions.insert({{kId, versionId},
                                    {QStringLiteral("skill_id"), skillId},
                                    {QStringLiteral("created_at"), now},
                                    {QStringLiteral("manifest"), serializeArray(manifest)},
                                    {QStringLiteral("doc"), serializeDoc(doc)}});
        !s)
        return s.error();
    return doc;
}

Result<QJsonObject> SkillService::create(QList<skills::File> files, const std::optional<QString> &displayName)
{
    std::optional<QString> label;
    if (displayName) {
        auto d = skills::displayName(*displayName);
        if (!d)
            return d.error();
        if (!d->isEmpty())
            label = *d;
    }
    auto bundle = skills::validate(std::move(files));
    if (!bundle)
        return bundle.error();

    const QString now = clock::nowIso();
    const QString id = ids::make(u"skill");
    Transaction tx(m_db);
    if (!tx.active())
        return m_db.commitError(QStringLiteral("failed to start a transaction"));
    auto version = insertVersion(id, *bundle, now);
    if (!version)
        return version.error();
    const QJsonObject doc{{kId, id},
                          {QStringLiteral("type"), QStringLiteral("skill")},
                          {QStringLiteral("created_at"), now},
                          {QStringLiteral("updated_at"), now},
                          {QStringLiteral("display_name"), label.value_or(bundle->name)},
                          {QStringLiteral("latest_version_id"), version->value(kId)},
                          {QStringLiteral("source"), QJsonObject{{QStringLiteral("type"), QStringLiteral("custom")}}}};
    if (auto s = m_skills.insert({{kId, id},
                                  {QStringLiteral("created_at"), now},
                                  {QStringLiteral("updated_at"), now},
                                  {QStringLiteral("doc"), serializeDoc(doc)}});
        !s)
        return s.error();
    if (!tx.commit())
        return m_db.commitError(QStringLiteral("failed to commit the skill"));
    Q_EMIT changed(id);
    return doc;
}

Result<QJsonObject> SkillService::retrieve(const QString &id)
{
    if (auto doc = m_skills.get(id))
        return *doc;
    return skillNotFound(id);
}

Result<Page> SkillService::list(const PageRequest &page, const QString &source)
{
    if (!source.isEmpty() && source != u"custom" && source != u"anthropic")
        return ApiError::invalid(QStringLiteral("`source` must be \"custom\" or \"anthropic\", got \"%1\"").arg(source.left(64)));
    QList<DocTable::Filter> filters;
    if (source == u"anthropic")
        filters.append({QStringLiteral("0"), {}}); // Vivarium stores only custom skills
    return m_skills.list(page, filters);
}

QString SkillService::usedBy(const QString &skillId, const QString &versionId)
{
    const QString match =
        versionId.isEmpty()
            ? QStringLiteral("json_extract(s.value, '$.skill_id') = ?")
            : QStringLiteral("json_extract(s.value, '$.skill_id') = ? AND json_extract(s.value, '$.version') = ?");
    QSqlQuery q = m_db.query(QStringLiteral("SELECT av.agent_id, av.version FROM agent_versions av "
                                            "JOIN agents a ON a.id = av.agent_id WHERE a.archived_at IS NULL "
                                            "AND EXISTS (SELECT 1 FROM json_each(av.doc, '$.skills') s WHERE "
                                            "json_extract(s.value, '$.type') = 'custom' AND %1) LIMIT 1")
                                 .arg(match));
    q.addBindValue(skillId);
    if (!versionId.isEmpty())
        q.addBindValue(versionId);
    if (m_db.exec(q) && q.next())
        return QStringLiteral("agent %1 (version %2)").arg(q.value(0).toString(), q.value(1).toString());
    QSqlQuery s = m_db.query(QStringLiteral("SELECT id FROM sessions WHERE archived_at IS NULL AND EXISTS "
                                            "(SELECT 1 FROM json_each(doc, '$.agent.skills') s WHERE "
                                            "json_extract(s.value, '$.type') = 'custom' AND %1) LIMIT 1")
                                 .arg(match));
    s.addBindValue(skillId);
    if (!versionId.isEmpty())
        s.addBindValue(versionId);
    if (m_db.exec(s) && s.next())
        return QStringLiteral("session %1").arg(s.value(0).toString());
    return {};
}

void SkillService::collectGarbage(const QJsonArray &manifest)
{
    for (const QJsonValue &entry : manifest) {
        const QString sha = entry.toObject().value(QStringLiteral("sha256")).toString();
        QSqlQuery q = m_db.query(QStringLiteral("SELECT 1 FROM skill_versions WHERE EXISTS (SELECT 1 FROM "
                                                "json_each(manifest) m WHERE json_extract(m.value, '$.sha256') = ?) "
                                                "LIMIT 1"));
        q.addBindValue(sha);
        if (!m_db.exec(q) || q.next())
            continue;
        if (!QFile::remove(blobPath(sha)) && QFile::exists(blobPath(sha)))
            qCWarning(lcSkills) << "cannot remove unused skill blob" << sha;
    }
}

void SkillService::sweepOrphans()
{
    QSqlQuery q = m_db.query(QStringLiteral("SELECT DISTINCT json_extract(m.value, '$.sha256') FROM skill_versions, "
                                            "json_each(skill_versions.manifest) m"));
    if (!m_db.exec(q))
        return;
    QSet<QString> known;
    while (q.next())
        known.insert(q.value(0).toString());
    QDir dir(m_dir + QStringLiteral("/blobs"));
    const QStringList entries = dir.entryList(QDir::Files | QDir::Hidden | QDir::System);
    for (const QString &name : entries) {
        if (!known.contains(name) && dir.remove(name))
            qCInfo(lcSkills) << "removed unreferenced skill blob" << name;
    }
}

Result<QJsonObject> SkillService::remove(const QString &id)
{
    if (!m_skills.get(id))
        return skillNotFound(id);
    if (const QString user = usedBy(id); !user.isEmpty())
        return ApiError::conflict(
            QStringLiteral("skill %1 is in use by %2: remove it from the agent's `skills` (or archive the agent) "
                           "before deleting it")
                .arg(id, user));
    QSqlQuery q = m_db.query(QStringLiteral("SELECT manifest FROM skill_versions WHERE skill_id = ?"));
    q.addBindValue(id);
    QJsonArray manifests;
    if (m_db.exec(q)) {
        while (q.next()) {
            for (const QJsonValue &v : parseArray(q.value(0).toString()))
                manifests.append(v);
        }
    }
    q.finish();
    Transaction tx(m_db);
    if (!tx.active())
        return m_db.commitError(QStringLiteral("failed to start a transaction"));
    QSqlQuery del = m_db.query(QStringLiteral("DELETE FROM skill_versions WHERE skill_id = ?"));
    del.addBindValue(id);
    if (auto s = m_db.exec(del); !s)
        return s.error();
    if (auto s = m_skills.remove(id); !s)
        return s.error();
    if (!tx.commit())
        return m_db.commitError(QStringLiteral("failed to delete the skill"));
    collectGarbage(manifests);
    Q_EMIT removed(id);
    return QJsonObject{{kId, id}, {QStringLiteral("type"), QStringLiteral("skill_deleted")}};
}

Result<QJsonObject> SkillService::createVersion(const QString &skillId, QList<skills::File> files)
{
    auto skill = m_skills.get(skillId);
    if (!skill)
        return skillNotFound(skillId);
    auto bundle = skills::validate(std::move(files));
    if (!bundle)
        return bundle.error();
    const auto latest = versionRow(skillId, kLatest);
    const QString name = latest ? latest->doc.value(QStringLiteral("name")).toString() : QString();
    if (!name.isEmpty() && bundle->name != name)
        return ApiError::invalid(QStringLiteral("SKILL.md front matter: `name` is \"%1\", but this skill's name is \"%2\" "
                                                "(a skill's name never changes; create a new skill instead)")
                                     .arg(bundle->name, name));
    const QString now = clock::nowIso();
    Transaction tx(m_db);
    if (!tx.active())
        return m_db.commitError(QStringLiteral("failed to start a transaction"));
    auto version = insertVersion(skillId, *bundle, now);
    if (!version)
        return version.error();
    skill->insert(QStringLiteral("latest_version_id"), version->value(kId));
    skill->insert(QStringLiteral("updated_at"), now);
    if (auto s = m_skills.update(skillId, {{QStringLiteral("updated_at"), now}, {QStringLiteral("doc"), serializeDoc(*skill)}});
        !s)
        return s.error();
    if (!tx.commit())
        return m_db.commitError(QStringLiteral("failed to commit the skill version"));
    Q_EMIT changed(skillId);
    return *version;
}

Result<Page> SkillService::versions(const QString &skillId, const PageRequest &page)
{
    if (!m_skills.get(skillId))
        return skillNotFound(skillId);
    return m_versions.list(page, {{QStringLiteral("skill_id = ?"), {skillId}}});
}

std::optional<SkillService::VersionRow> SkillService::versionRow(const QString &skillId, const QString &version)
{
    QSqlQuery q = m_db.query(version == kLatest
                                 ? QStringLiteral("SELECT doc, manifest FROM skill_versions WHERE skill_id = ? "
                                                  "ORDER BY seq DESC LIMIT 1")
                                 : QStringLiteral("SELECT doc, manifest FROM skill_versions WHERE skill_id = ? AND id = ?"));
    q.addBindValue(skillId);
    if (version != kLatest)
        q.addBindValue(version);
    if (!m_db.exec(q) || !q.next())
        return std::nullopt;
    return VersionRow{parseDoc(q.value(0).toString()), parseArray(q.value(1).toString())};
}

Result<QJsonObject> SkillService::version(const QString &skillId, const QString &version)
{
    if (!m_skills.get(skillId))
        return skillNotFound(skillId);
    if (auto row = versionRow(skillId, version))
        return row->doc;
    return ApiError::notFound(QStringLiteral("skill %1 has no version %2").arg(skillId, version));
}

Result<QJsonObject> SkillService::removeVersion(const QString &skillId, const QString &version)
{
    auto skill = m_skills.get(skillId);
    if (!skill)
        return skillNotFound(skillId);
    if (version == kLatest)
        return ApiError::invalid(QStringLiteral("name the version to delete by its id, not \"latest\""));
    auto row = versionRow(skillId, version);
    if (!row)
        return ApiError::notFound(QStringLiteral("skill %1 has no version %2").arg(skillId, version));
    QSqlQuery count = m_db.query(QStringLiteral("SELECT COUNT(*) FROM skill_versions WHERE skill_id = ?"));
    count.addBindValue(skillId);
    if (!m_db.exec(count) || !count.next())
        return ApiError::internal(QStringLiteral("cannot count the skill's versions"));
    if (count.value(0).toInt() <= 1)
        return ApiError::conflict(QStringLiteral("version %1 is the only version of skill %2; a skill always holds at "
                                                 "least one version: delete the skill instead")
                                      .arg(version, skillId));
    count.finish();
    if (const QString user = usedBy(skillId, version); !user.isEmpty())
        return ApiError::conflict(QStringLiteral("version %1 of skill %2 is pinned by %3: change that reference before "
                                                 "deleting the version")
                                      .arg(version, skillId, user));
    Transaction tx(m_db);
    if (!tx.active())
        return m_db.commitError(QStringLiteral("failed to start a transaction"));
    if (auto s = m_versions.remove(version); !s)
        return s.error();
    QSqlQuery latest = m_db.query(QStringLiteral("SELECT id FROM skill_versions WHERE skill_id = ? ORDER BY seq DESC LIMIT 1"));
    latest.addBindValue(skillId);
    if (!m_db.exec(latest) || !latest.next())
        return ApiError::internal(QStringLiteral("cannot find the skill's latest version"));
    const QString now = clock::nowIso();
    skill->insert(QStringLiteral("latest_version_id"), latest.value(0).toString());
    skill->insert(QStringLiteral("updated_at"), now);
    latest.finish();
    if (auto s = m_skills.update(skillId, {{QStringLiteral("updated_at"), now}, {QStringLiteral("doc"), serializeDoc(*skill)}});
        !s)
        return s.error();
    if (!tx.commit())
        return m_db.commitError(QStringLiteral("failed to delete the skill version"));
    collectGarbage(row->manifest);
    Q_EMIT changed(skillId);
    return QJsonObject{{kId, version}, {QStringLiteral("type"), QStringLiteral("skill_version_deleted")}};
}

Result<SkillService::Loaded> SkillService::load(const QString &skillId, const QString &version)
{
    if (!m_skills.get(skillId))
        return skillNotFound(skillId);
    auto row = versionRow(skillId, version);
    if (!row)
        return ApiError::notFound(QStringLiteral("skill %1 has no version %2").arg(skillId, version));
    Loaded l;
    l.skillId = skillId;
    l.versionId = row->doc.value(kId).toString();
    l.name = row->doc.value(QStringLiteral("name")).toString();
    l.description = row->doc.value(QStringLiteral("description")).toString();
    for (const QJsonValue &v : std::as_const(row->manifest)) {
        const QJsonObject e = v.toObject();
        l.files.append({e.value(QStringLiteral("path")).toString(), blobPath(e.value(QStringLiteral("sha256")).toString())});
    }
    return l;
}

Result<SkillService::Loaded> SkillService::loadReference(const QJsonObject &reference)
{
    const QString id = reference.value(QStringLiteral("skill_id")).toString();
    if (reference.value(QStringLiteral("type")).toString() != u"anthropic")
        return load(id, reference.value(QStringLiteral("version")).toString(kLatest));
    bundled::Skill b;
    QString error;
    if (!bundled::load(id, b, error))
        return ApiError::internal(error);
    return Loaded{id, QStringLiteral("anthropic:%1:%2").arg(id, b.version), b.name, b.description, b.files};
}

Result<QPair<QString, QByteArray>> SkillService::archive(const QString &skillId, const QString &version)
{
    auto loaded = load(skillId, version);
    if (!loaded)
        return loaded.error();
    auto row = versionRow(skillId, loaded->versionId);
    QList<skills::File> files;
    for (const QJsonValue &v : std::as_const(row->manifest)) {
        const QJsonObject e = v.toObject();
        QFile f(blobPath(e.value(QStringLiteral("sha256")).toString()));
        if (!f.open(QIODevice::ReadOnly))
            return ApiError::internal(QStringLiteral("a stored file of skill %1 cannot be read: %2").arg(skillId, f.errorString()));
        QByteArray bytes = f.readAll();
        if (bytes.size() != e.value(QStringLiteral("size")).toInteger())
            return ApiError::internal(QStringLiteral("a stored file of skill %1 is incomplete").arg(skillId));
        files.append({e.value(QStringLiteral("path")).toString(), std::move(bytes)});
    }
    const QDateTime created = QDateTime::fromString(row->doc.value(QStringLiteral("created_at")).toString(), Qt::ISODateWithMs);
    return qMakePair(QString(loaded->name + QStringLiteral(".zip")), skills::zip(loaded->name, files, created));
}

Status SkillService::checkReferences(const QJsonArray &skills, const QString &path)
{
    for (qsizetype i = 0; i < skills.size(); ++i) {
        const QJsonObject s = skills.at(i).toObject();
        const QString at = QStringLiteral("%1[%2]").arg(path).arg(i);
        const QString id = s.value(QStringLiteral("skill_id")).toString();
        if (s.value(QStringLiteral("type")).toString() == u"anthropic") {
            if (!bundled::known(id))
                return ApiError::invalid(
                    QStringLiteral("`%1.skill_id`: Vivarium has no pre-built skill \"%2\" (it bundles "
                                   "%3); upload your own with POST /v1/skills and reference it as "
                                   "{\"type\": \"custom\", \"skill_id\": …}")
                        .arg(at, id.left(64), bundled::ids().join(QStringLiteral(", "))));
            const QString version = s.value(QStringLiteral("version")).toString(kLatest);
            if (version != kLatest)
                return ApiError::invalid(
                    QStringLiteral("`%1.version`: Vivarium bundles one version of the pre-built "
                                   "skill \"%2\"; use \"latest\" (or leave `version` out), not \"%3\"")
                        .arg(at, id, version.left(64)));
            continue;
        }
        if (!m_skills.get(id))
            return ApiError::invalid(QStringLiteral("`%1.skill_id`: no skill %2 (create it with POST /v1/skills first)")
                                         .arg(at, id.left(64)));
        const QString version = s.value(QStringLiteral("version")).toString(kLatest);
        if (!versionRow(id, version))
            return ApiError::invalid(QStringLiteral("`%1.version`: skill %2 has no version %3").arg(at, id, version.left(64)));
    }
    return Ok{};
}

Result<QJsonArray> SkillService::resolveLatest(const QJsonArray &skills, const QString &path)
{
    if (auto s = checkReferences(skills, path); !s)
        return s.error();
    QJsonArray out;
    for (const QJsonValue &v : skills) {
        QJsonObject s = v.toObject();
        if (s.value(QStringLiteral("type")).toString() == u"anthropic") {
            out.append(s); // Vivarium bundles one version: "latest" stays
            continue;
        }
        if (s.value(QStringLiteral("version")).toString(kLatest) == kLatest) {
            auto row = versionRow(s.value(QStringLiteral("skill_id")).toString(), kLatest);
            if (!row)
                return ApiError::invalid(QStringLiteral("`%1`: skill %2 has no version")
                                             .arg(path, s.value(QStringLiteral("skill_id")).toString()));
            s.insert(QStringLiteral("version"), row->doc.value(kId).toString());
        }
        out.append(s);
    }
    return out;
}

} // namespace viv
