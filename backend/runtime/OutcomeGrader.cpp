#include "OutcomeGrader.h"

#include <QJsonDocument>
#include <QRegularExpression>

namespace viv::grader {

namespace {

constexpr qsizetype kMaxItemChars = 4000;    // one message / tool input / tool result
constexpr qsizetype kMaxWorkChars = 120000;  // the transcript the grader reads (its tail)
constexpr qsizetype kMaxExplanation = 10000;

const QString kSystem = QStringLiteral(
    "You are a grader. An AI agent was asked to produce an outcome; you decide whether its work meets the "
    "rubric. You did not do the work and you cannot act: judge only what the transcript shows. Check every "
    "criterion of the rubric independently.\n\n"
    "Answer with ONLY a JSON object, no other text:\n"
    "{\"result\": \"satisfied\" | \"needs_revision\" | \"failed\", \"explanation\": \"...\"}\n\n"
    "- satisfied: every criterion is met; the explanation says why.\n"
    "- needs_revision: at least one criterion is not met; the explanation lists each unmet criterion and "
    "what the agent must change. It is sent to the agent as feedback.\n"
    "- failed: the rubric cannot apply to this task at all (they contradict each other); the explanation "
    "says why.");

QString clip(const QString &s, qsizetype max)
{
    return s.size() <= max ? s : s.left(max) + QStringLiteral(" […%1 more characters]").arg(s.size() - max);
}

QString blocksText(const QJsonValue &content)
{
    if (content.isString())
        return content.toString();
    QStringList parts;
    for (const QJsonValue &v : content.toArray()) {
        const QJsonObject b = v.toObject();
        const QString type = b.value(QStringLiteral("type")).toString();
        if (type == u"text")
            parts << b.value(QStringLiteral("text")).toString();
        else if (!type.isEmpty())
            parts << QStringLiteral("[%1]").arg(type);
    }
    return parts.join(u'\n');
}

QString transcript(const QList<QJsonObject> &work)
{
    QStringList items;
    for (const QJsonObject &e : work) {
        const QString type = e.value(QStringLiteral("type")).toString();
        if (type == u"agent.message") {
            items << QStringLiteral("[agent] %1").arg(clip(blocksText(e.value(QStringLiteral("content"))), kMaxItemChars));
        } else if (type == u"agent.tool_use" || type == u"agent.custom_tool_use" || type == u"agent.mcp_tool_use") {
            items << QStringLiteral("[tool call %1] %2")
                         .arg(e.value(QStringLiteral("name")).toString(),
                              clip(QString::fromUtf8(QJsonDocument(e.value(QStringLiteral("input")).toObject())
                                                         .toJson(QJsonDocument::Compact)),
                                   kMaxItemChars));
        } else if (type == u"agent.tool_result" || type == u"user.custom_tool_result" || type == u"user.tool_result"
                   || type == u"agent.mcp_tool_result") {
            items << QStringLiteral("[tool result%1] %2")
                         .arg(e.value(QStringLiteral("is_error")).toBool() ? QStringLiteral(", error") : QString(),
                              clip(blocksText(e.value(QStringLiteral("content"))), kMaxItemChars));
        } else if (type == u"user.message" && !e.value(QStringLiteral("processed_at")).isNull()) {
            items << QStringLiteral("[user] %1").arg(clip(blocksText(e.value(QStringLiteral("content"))), kMaxItemChars));
        } else if (type == u"span.outcome_evaluation_end") {
            items << QStringLiteral("[earlier evaluation %1: %2] %3")
                         .arg(e.value(QStringLiteral("iteration")).toInt() + 1)
                         .arg(e.value(QStringLiteral("result")).toString(),
                              clip(e.value(QStringLiteral("explanation")).toString(), kMaxItemChars));
        }
    }
    QString out = items.join(QStringLiteral("\n\n"));
    if (out.size() > kMaxWorkChars)
        out = QStringLiteral("[… earlier work omitted …]\n") + out.right(kMaxWorkChars);
    if (out.isEmpty())
        out = QStringLiteral("(the agent produced no output)");
    return out;
}

QString normalise(QString v)
{
    v = v.trimmed().toLower();
    v.replace(u' ', u'_');
    v.replace(u'-', u'_');
    static const QStringList satisfied = {QStringLiteral("satisfied"), QStringLiteral("pass"), QStringLiteral("passed"),
                                          QStringLiteral("met"), QStringLiteral("meets")};
    static const QStringList revise = {QStringLiteral("needs_revision"), QStringLiteral("needs_revisions"),
                                       QStringLiteral("revise"), QStringLiteral("revision_needed"),
                                       QStringLiteral("not_satisfied"), QStringLiteral("unsatisfied"),
                                       QStringLiteral("not_met")};
    if (satisfied.contains(v))
        return QStringLiteral("satisfied");
    if (revise.contains(v))
        return QStringLiteral("needs_revision");
    if (v == u"failed" || v == u"not_applicable" || v == u"inapplicable")
        return QStringLiteral("failed");
    return {};
}

// Every top-level {...} span of `text`, in order, with strings respected.
QStringList objects(const QString &text)
{
    QStringList out;
    int depth = 0;
    qsizetype start = -1;
    bool inString = false, escaped = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == u'\\')
                escaped = true;
            else if (c == u'"')
                inString = false;
            continue;
        }
        if (c == u'"' && depth > 0) {
            inString = true;
        } else if (c == u'{') {
            if (depth++ == 0)
                start = i;
        } else if (c == u'}' && depth > 0) {
            if (--depth == 0)
                out << text.mid(start, i - start + 1);
        }
    }
    return out;
}

} // namespace

ModelRequest request(const QString &model, const QString &description, const QString &rubric,
                     const QList<QJsonObject> &work)
{
    ModelRequest r;
    r.model = model;
    r.system = kSystem;
    r.maxTokens = 4096;
    const QString text = QStringLiteral("## Task given to the agent\n%1\n\n## Rubric\n%2\n\n## The agent's work (transcript "
                                        "since the outcome was defined)\n%3\n\nGrade the work against the rubric. Answer "
                                        "with the JSON object only.")
                             .arg(description, rubric, transcript(work));
    r.messages = QJsonArray{QJsonObject{
        {QStringLiteral("role"), QStringLiteral("user")},
        {QStringLiteral("content"),
         QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), text}}}}}};
    return r;
}

Verdict parseText(const QString &raw)
{
    const QString text = raw.trimmed();
    for (const QString &candidate : objects(text)) {
        const QJsonObject o = QJsonDocument::fromJson(candidate.toUtf8()).object();
        QString result = normalise(o.value(QStringLiteral("result")).toString());
        if (result.isEmpty())
            result = normalise(o.value(QStringLiteral("verdict")).toString());
        if (result.isEmpty())
            continue;
        QString explanation = o.value(QStringLiteral("explanation")).toString();
        if (explanation.isEmpty())
            explanation = o.value(QStringLiteral("feedback")).toString();
        if (explanation.isEmpty())
            explanation = o.value(QStringLiteral("reason")).toString();
        return {result, clip(explanation.trimmed(), kMaxExplanation)};
    }
    // No JSON: a "result: …" / "verdict: …" line, the rest of the answer being the explanation.
    static const QRegularExpression line(QStringLiteral(R"((?:^|\n)\W*(?:result|verdict)\W*[:=]\W*([a-z_ -]+?)\W*(?:\n|$))"),
                                         QRegularExpression::CaseInsensitiveOption);
    if (const auto m = line.match(text); m.hasMatch()) {
        if (const QString result = normalise(m.captured(1)); !result.isEmpty()) {
            QString rest = text;
            rest.remove(m.capturedStart(0), m.capturedLength(0));
            return {result, clip(rest.trimmed(), kMaxExplanation)};
        }
    }
    // The verdict's words alone (needs_revision first: "not satisfied" must not read as satisfied).
    static const QRegularExpression revise(QStringLiteral(R"(\bneeds[_ -]revision\b)"), QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression negated(QStringLiteral(R"(\b(not|un)[_ -]?satisfied\b)"), QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression satisfied(QStringLiteral(R"(\bsatisfied\b)"), QRegularExpression::CaseInsensitiveOption);
    if (revise.match(text).hasMatch() || negated.match(text).hasMatch())
        return {QStringLiteral("needs_revision"), clip(text, kMaxExplanation)};
    if (satisfied.match(text).hasMatch())
        return {QStringLiteral("satisfied"), clip(text, kMaxExplanation)};
    return {QStringLiteral("failed"),
            QStringLiteral("The grader's answer held no verdict (satisfied, needs_revision or failed), so the outcome "
                           "could not be graded. It answered: %1")
                .arg(text.isEmpty() ? QStringLiteral("(nothing)") : clip(text, 500))};
}

Verdict parse(const QJsonArray &content)
{
    return parseText(blocksText(content));
}

QString taskText(const QString &description, const QString &rubric)
{
    return QStringLiteral("Work toward this outcome until it is done:\n%1\n\nWhen you finish, a grader checks your work "
                          "against this rubric:\n%2")
        .arg(description, rubric);
}

QString feedbackText(const QString &result, int iteration, const QString &explanation)
{
    if (result == u"max_iterations_reached")
        return QStringLiteral("The grader checked your work (evaluation %1) and found it still does not meet the rubric:\n%2\n\n"
                              "That was the last evaluation (max_iterations reached). Finish with a short final message "
                              "on the state of the work.")
            .arg(iteration + 1)
            .arg(explanation);
    return QStringLiteral("The grader checked your work (evaluation %1) and found it needs revision:\n%2\n\nRevise "
                          "your work so that it meets every criterion of the rubric.")
        .arg(iteration + 1)
        .arg(explanation);
}

} // namespace viv::grader
