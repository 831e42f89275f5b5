#pragma once

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QLoggingCategory>
#include <QString>

#include <functional>
#include <optional>

namespace viv {

// A model id without its provider prefix ("anthropic/…", "openai/…"), as tables of model facts
// are keyed.
QString stripModelProvider(const QString &model);

// A table of one fact per model (a context window, a list price): built-in entries matched by id
// prefix (longest wins, so dated ids and point releases share their family's entry), overridden
// and extended by a JSON object {"<model id or id prefix>": <value>, …} from the environment.
// A configured id matches exactly first, and wins a prefix tie with a built-in entry. Served to
// ContextWindows (runtime/) and PriceTable (services/).
template <typename T>
class ModelTable
{
public:
    struct Entry
    {
        QString model; // id or id prefix
        T value{};
    };
    // One override entry's value: the value, or nullopt with `why` (naming the key) filled.
    using ParseValue = std::function<std::optional<T>(const QString &key, const QJsonValue &value, QString *why)>;

    // The built-in entries, overridden by `json` (empty = none). A malformed override is ignored
    // as a whole: `problem` gets why (`notAnObject` when it is not a JSON object, else the
    // parser's message) and the table is the built-in one. With `wildcard`, the key "*" sets the
    // value of every model that nothing else names (and of an empty id).
    static ModelTable withOverrides(const QList<Entry> &builtin, const QByteArray &json, const QString &notAnObject,
                                    bool wildcard, const ParseValue &parse, QString *problem)
    {
        ModelTable t;
        t.m_prefixes = builtin;
        if (json.trimmed().isEmpty())
            return t;
        auto fail = [&](const QString &why) {
            if (problem)
                *problem = why;
            ModelTable plain;
            plain.m_prefixes = builtin;
            return plain;
        };
        QJsonParseError err{};
        const QJsonDocument doc = QJsonDocument::fromJson(json, &err);
        if (!doc.isObject())
            return fail(notAnObject);
        QList<Entry> configured;
        std::optional<T> fallback;
        const QJsonObject o = doc.object();
        for (auto it = o.begin(); it != o.end(); ++it) {
            QString why;
            std::optional<T> value = parse(it.key(), it.value(), &why);
            if (!value)
                return fail(why);
            if (wildcard && it.key() == u"*")
                fallback = *value;
            else
                configured.append({stripModelProvider(it.key()), *value});
        }
        t.m_exact = configured;
        t.m_prefixes = configured + t.m_prefixes; // configured first: they win a tie
        t.m_fallback = fallback;
        return t;
    }

    // The entry of a model id as an agent names it (with or without its provider prefix): an
    // exact configured id first, then the longest prefix, then the "*" value (if any).
    std::optional<T> find(const QString &rawModel) const
    {
        const QString model = stripModelProvider(rawModel);
        if (model.isEmpty())
            return m_fallback;
        for (const Entry &e : m_exact) {
            if (e.model == model)
                return e.value;
        }
        const Entry *best = nullptr;
        for (const Entry &e : m_prefixes) {
            if (model.startsWith(e.model) && (!best || e.model.size() > best->model.size()))
                best = &e;
        }
        if (best)
            return best->value;
        return m_fallback;
    }

private:
    QList<Entry> m_exact;        // configured: exact ids
    QList<Entry> m_prefixes;     // configured first, then built-in
    std::optional<T> m_fallback; // configured "*" (wildcard tables only)
};

// A process-wide table built once from the environment variable `variable` by `build` (a
// withOverrides(json, problem)); a malformed value is logged ("<variable> ignored: <why>") under
// `category` and the built-in table is used.
template <typename Table>
Table modelTableFromEnvironment(const char *variable, Table (*build)(const QByteArray &, QString *),
                                const QLoggingCategory &category)
{
    QString problem;
    Table t = build(qgetenv(variable), &problem);
    if (!problem.isEmpty())
        qCWarning(category).noquote() << variable << "ignored:" << problem;
    return t;
}

} // namespace viv
