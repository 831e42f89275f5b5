#include "BundledSkills.h"

#include "SkillBundle.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>

#include <algorithm>

namespace viv::bundled {

namespace {

struct Entry
{
    const char *id;
    QStringList apt;
};

// Debian 12's packages for each format. python-pptx is not packaged for Debian 12, so the pptx
// scripts write and read PresentationML with the standard library alone.
const QList<Entry> &entries()
{
    static const QList<Entry> list = {
        {"docx", {QStringLiteral("python3-docx")}},
        {"pdf",
         {QStringLiteral("python3-reportlab"), QStringLiteral("python3-pypdf"), QStringLiteral("poppler-utils")}},
        {"pptx", {}},
        {"xlsx", {QStringLiteral("python3-openpyxl")}},
    };
    return list;
}

} // namespace

QStringList ids()
{
    QStringList out;
    for (const Entry &e : entries())
        out << QString::fromLatin1(e.id);
    return out;
}

bool known(const QString &id)
{
    return ids().contains(id);
}

QStringList aptPackages(const QString &id)
{
    for (const Entry &e : entries())
        if (id == QLatin1StringView(e.id))
            return e.apt;
    return {};
}

QString rootDir()
{
    QString fromEnv = qEnvironmentVariable("VIVARIUM_SKILLS_DIR");
    if (!fromEnv.isEmpty())
        return fromEnv;
    const QString appDir = QCoreApplication::applicationDirPath();
    // The installed skills next to the binary (the package), then the source tree (a build
    // tree's binary), then the system's.
    const QStringList candidates = {
        appDir + QStringLiteral("/../share/vivarium/skills"),
#ifdef VIVARIUM_SOURCE_DIR
        QStringLiteral(VIVARIUM_SOURCE_DIR "/resources/skills"),
#endif
        QStringLiteral("/usr/share/vivarium/skills"),
    };
    for (const QString &c : candidates)
        if (QFileInfo::exists(c + QStringLiteral("/xlsx/SKILL.md")))
            return QDir(c).canonicalPath();
    return candidates.constLast();
}

bool load(const QString &id, Skill &out, QString &error)
{
    if (!known(id)) {
        error = QStringLiteral("Vivarium bundles no skill \"%1\"").arg(id);
        return false;
    }
    const QString dir = rootDir() + u'/' + id;
    QStringList paths;
    QDirIterator it(dir, QDir::Files | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString rel = QDir(dir).relativeFilePath(it.next());
        if (!rel.contains(QStringLiteral("__pycache__")))
            paths << rel;
    }
    std::sort(paths.begin(), paths.end());
    QFile md(dir + QStringLiteral("/SKILL.md"));
    if (!md.open(QIODevice::ReadOnly)) {
        error = QStringLiteral("the bundled skill %1 is not installed (%2)").arg(id, md.fileName());
        return false;
    }
    auto fm = skills::frontMatter(md.readAll());
    if (!fm) {
        error = QStringLiteral("the bundled skill %1 has a bad SKILL.md: %2").arg(id, fm.error().message());
        return false;
    }
    QCryptographicHash h(QCryptographicHash::Sha256);
    out = Skill{id, {}, fm->name, fm->description, {}};
    for (const QString &p : std::as_const(paths)) {
        QFile f(dir + u'/' + p);
        if (!f.open(QIODevice::ReadOnly)) {
            error = QStringLiteral("the bundled skill %1 cannot be read: %2").arg(id, f.errorString());
            return false;
        }
        h.addData(QByteArray(p.toUtf8() + '\0'));
        h.addData(QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256));
        out.files.append({p, f.fileName()});
    }
    out.version = QString::fromLatin1(h.result().toHex().left(16));
    return true;
}

} // namespace viv::bundled
