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

} // namespace viv
