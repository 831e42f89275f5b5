#pragma once

// The outcome grader (docs/DESIGN.md "Outcomes"): a model call of its own, separate from the
// agent's conversation, that reads the outcome's description, its rubric and the agent's work
// since the outcome was defined, and answers satisfied / needs_revision / failed with an
// explanation. It uses the session's provider and model; it is offered no tools.

#include "providers/ModelProvider.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QString>

namespace viv::grader {

// The grader's request: its own system prompt and one user turn holding the task, the rubric and
// a transcript of `work` (the session's events after the user.define_outcome, ascending).
ModelRequest request(const QString &model, const QString &description, const QString &rubric,
                     const QList<QJsonObject> &work);

struct Verdict
{
    QString result;      // satisfied | needs_revision | failed
    QString explanation;
};

// Reads the grader's answer (its text blocks): a JSON object {"result", "explanation"} anywhere
// in the text (code fences and prose around it are fine; `verdict` is accepted for `result`,
// `feedback` / `reason` for `explanation`), else a "result: …" / "verdict: …" line, else the
// verdict's words alone. An answer with no recognisable verdict is `failed`, with an explanation
// quoting the start of what the grader said — never a guessed verdict.
Verdict parse(const QJsonArray &content);
Verdict parseText(const QString &raw);

// What the agent's conversation shows for the outcome (where its work began) and for an
// evaluation that asks for more (`needs_revision`, `max_iterations_reached`).
QString taskText(const QString &description, const QString &rubric);
QString feedbackText(const QString &result, int iteration, const QString &explanation);

} // namespace viv::grader
