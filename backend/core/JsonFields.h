#pragma once

#include "ApiError.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <initializer_list>
#include <optional>

namespace viv {

// Typed, path-aware access to a JSON object from a request body. Every accessor records the
// first problem it meets ("`tools[2].name`: expected a string"), so a controller can read all
// fields and then check ok() once. Absent and null both read as "not given" (nullopt): the
// API's params treat `null` as "use the default" / "clear", which callers ask with isNull().
// The one rule for text that can reach an HTTP header, a log line or a file name (secrets,
// names, ids, model ids, URLs, metadata): no control characters. Refused are C0 (U+0000–U+001F:
// NUL, TAB, LF, CR, ESC, …), DEL, C1 (U+0080–U+009F) and the Unicode line/paragraph separators
// U+2028/U+2029. Empty when `s` is clean, else why not ("must not contain control characters
// (U+000D at offset 3)"). JsonFields::string() applies it to every field; JsonFields::text() is
// the opt-out for free text (descriptions, system prompts, message text), which reaches only
// the model and the stored document.
QString controlCharacterProblem(QStringView s);

class JsonFields
{
public:
    enum Need { Optional, Required };

    explicit JsonFields(QJsonObject object, QString path = {});

    bool has(QStringView key) const { return m_obj.contains(key); }
    bool isNull(QStringView key) const { return m_obj.contains(key) && m_obj.value(key).isNull(); }
    QJsonValue raw(QStringView key) const { return m_obj.value(key); }
    const QJsonObject &object() const { return m_obj; }
    QString pathOf(QStringView key) const;

    // A single-line string: control characters are refused (controlCharacterProblem).
    std::optional<QString> string(QStringView key, Need need = Optional, int maxLength = 0,
                                  bool allowEmpty = true);
    // Free text (descriptions, prompts, message text): line breaks and other control
    // characters allowed. Never use it for a value that reaches a header, a log or a file name.
    std::optional<QString> text(QStringView key, Need need = Optional, int maxLength = 0,
                                bool allowEmpty = true);
    std::optional<bool> boolean(QStringView key, Need need = Optional);
    std::optional<qint64> integer(QStringView key, Need need = Optional, qint64 min = INT64_MIN,
                                  qint64 max = INT64_MAX);
    std::optional<QJsonObject> object(QStringView key, Need need = Optional);
    std::optional<QJsonArray> array(QStringView key, Need need = Optional, int maxItems = 0);
    // A string that must be one of `allowed`.
    std::optional<QString> oneOf(QStringView key, const QStringList &allowed, Need need = Optional);
    // String-to-string map with the API's limits (16 pairs, 64-char keys, 512-char values);
    // keys and values are single-line (controlCharacterProblem).
    // With allowNullValues (update patches) a null value means "delete this key".
    std::optional<QJsonObject> metadata(QStringView key, bool allowNullValues = false);

    // Rejects any key not in `allowed` ("Extra inputs are not permitted" in the hosted API).
    void allowOnly(std::initializer_list<QStringView> allowed);

    void fail(const QString &message);
    void failAt(QStringView key, const QString &message);
    void adopt(const JsonFields &child);
    bool ok() const { return m_error.isEmpty(); }
    ApiError error() const { return ApiError::invalid(m_error); }

private:
    const QJsonValue *present(QStringView key, Need need);
    std::optional<QString> anyString(QStringView key, Need need, int maxLength, bool allowEmpty, bool singleLine);
    QJsonObject m_obj;
    QString m_path;
    QString m_error;
    QJsonValue m_tmp;
};

// Applies an update-style metadata patch (null value = delete) to `current`, then re-checks
// the stored limits. Returns an error message or an empty string.
QString applyMetadataPatch(QJsonObject &current, const QJsonObject &patch);

// A JSON value's kind as error messages name it: "null", "a boolean", "a number", "a string",
// "an array", "an object".
QString jsonTypeName(const QJsonValue &v);

} // namespace viv
