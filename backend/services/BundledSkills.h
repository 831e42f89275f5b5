#pragma once

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace viv::bundled {

// Vivarium's own document skills, answering `{type: "anthropic", skill_id: "xlsx" | "docx" |
// "pptx" | "pdf"}` (the hosted API's pre-built skills; these are written for Vivarium, not
// copies). Each is a folder shipped with the program — resources/skills/<id>/ in the source
// tree, <prefix>/share/vivarium/skills/<id>/ installed — with a SKILL.md (name + description
// front matter) and small Python scripts. Their Debian packages (aptPackages) are installed in
// the session's environment layer (EnvironmentLayers) only for sessions that use the skill.
//
// Vivarium ships one version of each: a reference's `version` must be "latest" (or omitted).

// The ids Vivarium bundles, sorted.
QStringList ids();
bool known(const QString &id);
// The apt packages the skill's scripts need in the VM (may be empty: stdlib only).
QStringList aptPackages(const QString &id);
// The folder of the installed skills (VIVARIUM_SKILLS_DIR overrides; then next to the binary,
// the source tree for a build tree's binary, /usr/share/vivarium/skills).
QString rootDir();

struct Skill
{
    QString id;
    QString version;                      // 16 hex digits of a hash over the files: changes when they change
    QString name;                         // SKILL.md front matter
    QString description;                  // SKILL.md front matter
    QList<QPair<QString, QString>> files; // path relative to the skill's folder → file on disk
};
// Reads the skill's folder; an error message when it is missing or its SKILL.md is unusable.
bool load(const QString &id, Skill &out, QString &error);

} // namespace viv::bundled
