#include "ContextWindows.h"

#include "core/ModelTable.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>

#include <cmath>

Q_LOGGING_CATEGORY(lcContextWindows, "vivarium.context")

namespace viv {

namespace {

// Built-in context windows (input tokens), matched by id prefix (longest wins), so dated ids and
// point releases share their family's window.
//
// Source: Anthropic's model overview (models.md of the official claude-api skill: Fable 5,
// Mythos 5, Opus 4.6-4.8, Sonnet 5 and Sonnet 4.6 have a 1M window by default; Haiku 4.5 and the
// older Claude 4 and 3.x models 200K — Sonnet 4/4.5's 1M is a beta header Vivarium does not send)
// and OpenAI's model pages (GPT-5 family 400K, GPT-4.1 family 1,047,576, GPT-4o 128K, o3/o4-mini
// 200K), transcribed on 2026-12-06. Windows change: VIVARIUM_MODEL_CONTEXT_WINDOWS overrides any
// entry and names local models (README "Context compaction").
struct Builtin
{
    const char *prefix;
    qint64 tokens;
};

constexpr Builtin kBuiltin[] = {
    // Anthropic
    {"claude-fable-5", 1'000'000},
    {"claude-mythos-5", 1'000'000},
    {"claude-opus-4-8", 1'000'000},
    {"claude-opus-4-7", 1'000'000},
    {"claude-opus-4-6", 1'000'000},
    {"claude-sonnet-5", 1'000'000},
    {"claude-sonnet-4-6", 1'000'000},
    {"claude-opus-4", 200'000},   // Opus 4, 4.1, 4.5
    {"claude-sonnet-4", 200'000}, // Sonnet 4, 4.5
    {"claude-haiku-4", 200'000},  // Haiku 4.5
    {"claude-3", 200'000},        // Claude 3 and 3.5 / 3.7
    // OpenAI
    {"gpt-5", 400'000},
    {"gpt-4.1", 1'047'576},
    {"gpt-4o", 128'000},
    {"o3", 200'000},
    {"o4-mini", 200'000},
};

} // namespace

ContextWindows ContextWindows::withOverrides(const QByteArray &json, QString *problem)
{
    QList<ModelTable<qint64>::Entry> builtin;
    for (const Builtin &b : kBuiltin)
        builtin.append({QString::fromLatin1(b.prefix), b.tokens});
    ContextWindows t;
    t.m_table = ModelTable<qint64>::withOverrides(
        builtin, json, QStringLiteral("not a JSON object of model id → context window in tokens"), /*wildcard*/ true,
        [](const QString &key, const QJsonValue &value, QString *why) -> std::optional<qint64> {
            const double v = value.toDouble(-1);
            if (!value.isDouble() || v < 1 || v > 1e9 || std::floor(v) != v) {
                *why = QStringLiteral("\"%1\": expected a whole number of tokens (1 to 1e9)").arg(key);
                return std::nullopt;
            }
            return qint64(v);
        },
        problem);
    return t;
}

const ContextWindows &ContextWindows::instance()
{
    static const ContextWindows table =
        modelTableFromEnvironment("VIVARIUM_MODEL_CONTEXT_WINDOWS", &ContextWindows::withOverrides, lcContextWindows());
    return table;
}

std::optional<qint64> ContextWindows::window(const QString &model) const
{
    return m_table.find(model);
}

qint64 estimateTokens(const QJsonValue &value)
{
    QByteArray bytes;
    if (value.isObject())
        bytes = QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
    else if (value.isArray())
        bytes = QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact);
    else if (value.isString())
        bytes = value.toString().toUtf8();
    return (bytes.size() + 3) / 4;
}

qint64 estimateTokens(const QString &text)
{
    return (text.toUtf8().size() + 3) / 4;
}

} // namespace viv
