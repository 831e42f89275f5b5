#pragma once

#include <QJsonArray>
#include <QString>

namespace viv {

class SkillService;

// The system prompt's part that tells the model about the session agent's skills, the way the
// hosted API does it (progressive disclosure): for each (resolved) entry of the agent's
// `skills`, its name and description and the folder its files are in, in the session's VM
// (SkillService::mountPath), with SKILL.md at the top for the model to read with its file tools
// when a task matches. `filesReadable` is false when the model cannot read them (no sandbox, or
// neither `read` nor `bash` enabled): then the instructions of SKILL.md (front matter removed,
// at most kMaxSkillBodyChars characters) are given inline instead, and the prompt says that the
// skill's other files are not available. Empty when the agent has no skills. A skill that can no
// longer be loaded is named as unavailable.
constexpr int kMaxSkillBodyChars = 64 * 1024;
QString skillsPrompt(SkillService *skills, const QJsonArray &agentSkills, bool filesReadable);

// `system` followed by skillsPrompt() (separated by a blank line when both are present).
QString systemWithSkills(const QString &system, SkillService *skills, const QJsonArray &agentSkills,
                         bool filesReadable);

// The memory section of the system prompt: for each `memory_store` resource of the session, its
// mount path, access, name, description and the attachment's `instructions` (the hosted API
// renders the same items). Empty without memory stores. `system` followed by it, like
// systemWithSkills.
QString memoryPrompt(const QJsonArray &sessionResources);
QString systemWithMemory(const QString &system, const QJsonArray &sessionResources);

} // namespace viv
