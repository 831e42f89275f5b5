#include "JsonFields.h"

namespace viv {

namespace {
constexpr int kMetadataMaxPairs = 16;
constexpr int kMetadataMaxKey = 64;
constexpr int kMetadataMaxValue = 512;
} // namespace

QString jsonTypeName(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Null: return QStringLiteral("null");
    case QJsonValue::Bool: return QStringLiteral("a boolean");
    case QJsonValue::Double: return QStringLiteral("a number");
    case QJsonValue::String: return QStringLiteral("a string");
    case QJsonValue::Array: return QStringLiteral("an array");
    case QJsonValue::Object: return QStringLiteral("an object");
    case QJsonValue::Undefined: break;
    }
    return QStringLiteral("undefined");
}

QString controlCharacterProblem(QStringView s)
{
    for (qsizetype i = 0; i < s.size(); ++i) {
        const char16_t c = s[i].unicode();
        if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029)
            return QStringLiteral("must not contain control characters (U+%1 at offset %2)")
                .arg(QString::number(uint(c), 16).toUpper().rightJustified(4, u'0'))
                .arg(i);
    }
    return {};
}

JsonFields::JsonFields(QJsonObject object, QString path)
    : m_obj(std::move(object)), m_path(std::move(path))
{
}

QString JsonFields::pathOf(QStringView key) const
{
    return m_path.isEmpty() ? key.toString() : m_path + u'.' + key;
}

void JsonFields::fail(const QString &message)
{
    if (m_error.isEmpty())
        m_error = message;
}

void JsonFields::failAt(QStringView key, const QString &message)
{
    fail(QStringLiteral("`%1`: %2").arg(pathOf(key), message));
}

void JsonFields::adopt(const JsonFields &child)
{
    if (!child.ok())
        fail(child.m_error);
}

const QJsonValue *JsonFields::present(QStringView key, Need need)
{
    auto it = m_obj.constFind(key);
    if (it == m_obj.constEnd() || it->isNull()) {
        if (need == Required)
            failAt(key, QStringLiteral("field required"));
        return nullptr;
    }
    m_tmp = *it;
    return &m_tmp;
}

std::optional<QString> JsonFields::string(QStringView key, Need need, int maxLength,
                                          bool allowEmpty)
{
    return anyString(key, need, maxLength, allowEmpty, true);
}

std::optional<QString> JsonFields::text(QStringView key, Need need, int maxLength, bool allowEmpty)
{
    return anyString(key, need, maxLength, allowEmpty, false);
}

std::optional<QString> JsonFields::anyString(QStringView key, Need need, int maxLength,
                                             bool allowEmpty, bool singleLine)
{
    const QJsonValue *v = present(key, need);
    if (!v)
        return std::nullopt;
    if (!v->isString()) {
        failAt(key, QStringLiteral("expected a string, got %1").arg(jsonTypeName(*v)));
        return std::nullopt;
    }
    QString s = v->toString();
    if (!allowEmpty && s.isEmpty()) {
        failAt(key, QStringLiteral("must not be empty"));
        return std::nullopt;
    }
    if (maxLength > 0 && s.size() > maxLength) {
        failAt(key, QStringLiteral("must be at most %1 characters").arg(maxLength));
        return std::nullopt;
    }
    if (singleLine) {
        if (const QString why = controlCharacterProblem(s); !why.isEmpty()) {
            failAt(key, why);
            return std::nullopt;
        }
    }
    return s;
}

std::optional<bool> JsonFields::boolean(QStringView key, Need need)
{
    const QJsonValue *v = present(key, need);
    if (!v)
        return std::nullopt;
    if (!v->isBool()) {
        failAt(key, QStringLiteral("expected a boolean, got %1").arg(jsonTypeName(*v)));
        return std::nullopt;
    }
    return v->toBool();
}

std::optional<qint64> JsonFields::integer(QStringView key, Need need, qint64 min, qint64 max)
{
    const QJsonValue *v = present(key, need);
    if (!v)
        return std::nullopt;
    // A whole number that fits qint64, read exactly: toInteger() answers its default for
    // anything else (a fraction, out of range), so two different defaults tell. (Converting
    // the double with a cast is undefined out of range, and loses integers above 2^53.)
    const qint64 n = v->toInteger(0);
    if (!v->isDouble() || n != v->toInteger(1)) {
        failAt(key, QStringLiteral("expected an integer, got %1").arg(jsonTypeName(*v)));
        return std::nullopt;
    }
    if (n < min || n > max) {
        failAt(key, max == INT64_MAX ? QStringLiteral("must be at least %1").arg(min)
                                     : QStringLiteral("must be between %1 and %2").arg(min).arg(max));
        return std::nullopt;
    }
    return n;
}

std::optional<QJsonObject> JsonFields::object(QStringView key, Need need)
{
    const QJsonValue *v = present(key, need);
    if (!v)
        return std::nullopt;
    if (!v->isObject()) {
        failAt(key, QStringLiteral("expected an object, got %1").arg(jsonTypeName(*v)));
        return std::nullopt;
    }
    return v->toObject();
}

std::optional<QJsonArray> JsonFields::array(QStringView key, Need need, int maxItems)
{
    const QJsonValue *v = present(key, need);
    if (!v)
        return std::nullopt;
    if (!v->isArray()) {
        failAt(key, QStringLiteral("expected an array, got %1").arg(jsonTypeName(*v)));
        return std::nullopt;
    }
    QJsonArray a = v->toArray();
    if (maxItems > 0 && a.size() > maxItems) {
        failAt(key, QStringLiteral("at most %1 items are allowed").arg(maxItems));
        return std::nullopt;
    }
    return a;
}

std::optional<QString> JsonFields::oneOf(QStringView key, const QStringList &allowed, Need need)
{
    auto s = string(key, need);
    if (s && !allowed.contains(*s)) {
        failAt(key, QStringLiteral("must be one of %1, got \"%2\"")
                        .arg(allowed.join(QStringLiteral(", ")), *s));
        return std::nullopt;
    }
    return s;
}

std::optional<QJsonObject> JsonFields::metadata(QStringView key, bool allowNullValues)
{
    auto o = object(key);
    if (!o)
        return std::nullopt;
    if (!allowNullValues && o->size() > kMetadataMaxPairs) {
        failAt(key, QStringLiteral("at most %1 pairs are allowed").arg(kMetadataMaxPairs));
        return std::nullopt;
    }
    for (auto it = o->constBegin(); it != o->constEnd(); ++it) {
        if (it.key().isEmpty() || it.key().size() > kMetadataMaxKey) {
            failAt(key, QStringLiteral("keys must be 1 to %1 characters").arg(kMetadataMaxKey));
            return std::nullopt;
        }
        if (const QString why = controlCharacterProblem(it.key()); !why.isEmpty()) {
            failAt(key, QStringLiteral("keys %1").arg(why));
            return std::nullopt;
        }
        if (it->isNull() && allowNullValues)
            continue;
        if (!it->isString()) {
            fail(QStringLiteral("`%1.%2`: expected a string, got %3")
                     .arg(pathOf(key), it.key(), jsonTypeName(*it)));
            return std::nullopt;
        }
        if (it->toString().size() > kMetadataMaxValue) {
            fail(QStringLiteral("`%1.%2`: values must be at most %3 characters")
                     .arg(pathOf(key), it.key())
                     .arg(kMetadataMaxValue));
            return std::nullopt;
        }
        if (const QString why = controlCharacterProblem(it->toString()); !why.isEmpty()) {
            fail(QStringLiteral("`%1.%2`: %3").arg(pathOf(key), it.key(), why));
            return std::nullopt;
        }
    }
    return o;
}

void JsonFields::allowOnly(std::initializer_list<QStringView> allowed)
{
    for (auto it = m_obj.constBegin(); it != m_obj.constEnd(); ++it) {
        bool known = false;
        for (QStringView a : allowed)
            known = known || a == it.key();
        if (!known) {
            failAt(it.key(), QStringLiteral("unknown field (extra inputs are not permitted)"));
            return;
        }
    }
}

QString applyMetadataPatch(QJsonObject &current, const QJsonObject &patch)
{
    for (auto it = patch.constBegin(); it != patch.constEnd(); ++it) {
        if (it->isNull())
            current.remove(it.key());
        else
            current.insert(it.key(), *it);
    }
    if (current.size() > kMetadataMaxPairs)
        return QStringLiteral("`metadata`: at most %1 pairs are allowed").arg(kMetadataMaxPairs);
    return {};
}

} // namespace viv
