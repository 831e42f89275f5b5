#pragma once

#include <QJsonArray>
#include <QString>

namespace viv {

class SkillService;

// The system prompt's part that tells the model about the session agent's skills: for each
// (resolved) entry of the agent's `skills`, its name and description, then the instructions of
// its SKILL.md (the front matter removed, at most kMaxSkillBodyChars characters). Empty when the
// agent has no skills. A skill that can no longer be loaded is named as unavailable.
//
// Skill files are not put into the session's VM yet (docs/DESIGN.md, "Skills"), so the model
// gets SKILL.md here instead of reading it from the sandbox; the skill's other files are not
// available to it.
constexpr int kMaxSkillBodyChars = 64 * 1024;
QString skillsPrompt(SkillService *skills, const QJsonArray &agentSkills);

// `system` followed by skillsPrompt() (separated by a blank line when both are present).
QString systemWithSkills(const QString &system, SkillService *skills, const QJsonArray &agentSkills);

} // namespace viv
