#pragma once

#include "core/ModelTable.h"

#include <QByteArray>
#include <QJsonValue>
#include <QList>
#include <QString>

#include <optional>

namespace viv {

// Context windows of known models, in tokens (the most a request's input may hold), for context
// compaction (runtime/Compaction.h, README "Context compaction"). See ContextWindows.cpp for the
// built-in table, its source and date.
class ContextWindows
{
public:
    // The process-wide table: the built-in windows, overridden and extended by the JSON object in
    // VIVARIUM_MODEL_CONTEXT_WINDOWS (read once): {"<model id or id prefix>": <tokens>, …}; the
    // key "*" is the window of every model that nothing else names (local models). A malformed
    // value is logged and ignored as a whole.
    static const ContextWindows &instance();

    // Builds a table from the built-in windows and an override JSON (empty = none). `problem`
    // receives why the override was ignored, if it was.
    static ContextWindows withOverrides(const QByteArray &json, QString *problem = nullptr);

    // The window of a model id as the agent names it ("claude-sonnet-4-6", "anthropic/…", a dated
    // id): an exact configured id first, then the longest built-in or configured prefix, then the
    // configured "*". nullopt: unknown (no compaction for that model).
    std::optional<qint64> window(const QString &model) const;

private:
    ModelTable<qint64> m_table; // configured "*": the fallback
};

// A token estimate of JSON content: its compact UTF-8 serialisation's bytes / 4, rounded up
// (about 4 bytes a token for English text and code; conservative for JSON punctuation).
qint64 estimateTokens(const QJsonValue &value);
qint64 estimateTokens(const QString &text);

} // namespace viv
