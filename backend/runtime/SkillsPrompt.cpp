#include "SkillsPrompt.h"

#include "services/SkillService.h"

#include <QFile>
#include <QJsonObject>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcSkillsPrompt, "vivarium.runtime.skills")

namespace viv {

namespace {

// SKILL.md without its front matter block.
QString body(const QByteArray &skillMd)
{
    QString text = QString::fromUtf8(skillMd);
    text.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    if (text.startsWith(QStringLiteral("---"))) {
        const qsizetype close = text.indexOf(QStringLiteral("\n---"), 3);
        if (close >= 0) {
            const qsizetype eol = text.indexOf(u'\n', close + 4);
            text = eol < 0 ? QString() : text.mid(eol + 1);
        }
    }
    text = text.trimmed();
    if (text.size() > kMaxSkillBodyChars)
        text = text.left(kMaxSkillBodyChars) + QStringLiteral("\n[… SKILL.md truncated]");
    return text;
}

} // namespace

QString skillsPrompt(SkillService *skills, const QJsonArray &agentSkills, bool filesReadable)
{
    if (!skills || agentSkills.isEmpty())
        return {};
    QString out = filesReadable
                      ? QStringLiteral("<skills>\nYou have the following skills. Each has a name, a description of when "
                                       "to use it, and a read-only folder with its files. When a task matches a "
                                       "skill's description, first read the SKILL.md in its folder with your file "
                                       "tools and follow it; read its other files only when SKILL.md points you to "
                                       "them.\n")
                      : QStringLiteral("<skills>\nYou have the following skills. Each has a name, a description of when "
                                       "to use it, and its instructions; when a task matches a skill's description, "
                                       "follow them. (The skills' other files are not available in this session.)\n");
    for (const QJsonValue &v : agentSkills) {
        const QJsonObject ref = v.toObject();
        const QString id = ref.value(QStringLiteral("skill_id")).toString();
        auto loaded = skills->loadReference(ref);
        if (!loaded) {
            qCWarning(lcSkillsPrompt).noquote() << "skill" << id << "cannot be loaded:" << loaded.error().message();
            out += QStringLiteral("\n<skill id=\"%1\">\n(unavailable: %2)\n</skill>\n").arg(id, loaded.error().message());
            continue;
        }
        if (filesReadable) {
            const QString dir = SkillService::mountPath(loaded->name);
            out += QStringLiteral("\n<skill>\nname: %1\ndescription: %2\nfolder: %3/ (start with %3/SKILL.md)\n</skill>\n")
                       .arg(loaded->name, loaded->description, dir);
            continue;
        }
        QByteArray md;
        for (const auto &f : std::as_const(loaded->files)) {
            if (f.first != u"SKILL.md")
                continue;
            QFile file(f.second);
            if (file.open(QIODevice::ReadOnly))
                md = file.readAll();
        }
        out += QStringLiteral("\n<skill>\nname: %1\ndescription: %2\n<instructions>\n%3\n</instructions>\n</skill>\n")
                   .arg(loaded->name, loaded->description, body(md));
    }
    out += QStringLiteral("</skills>");
    return out;
}

QString systemWithSkills(const QString &system, SkillService *skills, const QJsonArray &agentSkills,
                         bool filesReadable)
{
    const QString part = skillsPrompt(skills, agentSkills, filesReadable);
    if (part.isEmpty())
        return system;
    return system.isEmpty() ? part : system + QStringLiteral("\n\n") + part;
}

QString memoryPrompt(const QJsonArray &sessionResources)
{
    QStringList items;
    for (const QJsonValue &v : sessionResources) {
        const QJsonObject r = v.toObject();
        if (r.value(QStringLiteral("type")).toString() != u"memory_store")
            continue;
        const bool ro = r.value(QStringLiteral("access")).toString() == u"read_only";
        QString item = QStringLiteral("- %1 (%2): memory store \"%3\"")
                           .arg(r.value(QStringLiteral("mount_path")).toString(),
                                ro ? QStringLiteral("read-only") : QStringLiteral("read-write"),
                                r.value(QStringLiteral("name")).toString());
        const QString description = r.value(QStringLiteral("description")).toString();
        if (!description.isEmpty())
            item += QStringLiteral(". ") + description;
        const QString instructions = r.value(QStringLiteral("instructions")).toString();
        if (!instructions.isEmpty())
            item += QStringLiteral("\n  Instructions: ") + instructions;
        items << item;
    }
    if (items.isEmpty())
        return {};
    return QStringLiteral("Memory stores are mounted as folders in your environment; each memory is a text file "
                          "(at most 100 KB). Read them with your file tools before starting a task; in a "
                          "read-write store, create, edit or delete files to remember things for later "
                          "sessions (changes are saved when your turn ends).\n")
           + items.join(u'\n');
}

QString systemWithMemory(const QString &system, const QJsonArray &sessionResources)
{
    const QString memory = memoryPrompt(sessionResources);
    if (memory.isEmpty())
        return system;
    return system.isEmpty() ? memory : system + QStringLiteral("\n\n") + memory;
}

} // namespace viv
