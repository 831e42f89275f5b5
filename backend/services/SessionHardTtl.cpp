#include "SessionHardTtl.h"

#include <QRegularExpression>

namespace viv::hardttl {

namespace {

Result<qint64> parse(const QJsonObject &md, const char *key)
{
    const QString v = md.value(QLatin1String(key)).toString();
    static const QRegularExpression digits(QStringLiteral("^[0-9]{1,10}$"));
    bool ok = digits.match(v).hasMatch();
    const qint64 n = ok ? v.toLongLong(&ok) : 0;
    if (!ok || n > kMaxSeconds)
        return ApiError::invalid(QStringLiteral("`metadata.%1`: must be a whole number of seconds from 1 to %2, or \"0\" "
                                                "for no limit, got \"%3\"")
                                     .arg(QLatin1String(key))
                                     .arg(kMaxSeconds)
                                     .arg(v));
    return n;
}

} // namespace

Result<std::optional<qint64>> fromMetadata(const QJsonObject &metadata)
{
    const QString prefix = QStringLiteral("sandbox0.managed_agents.");
    for (auto it = metadata.constBegin(); it != metadata.constEnd(); ++it) {
        if (it.key().startsWith(prefix) && it.key() != QLatin1String(kSandbox0Key))
            return ApiError::invalid(QStringLiteral("`metadata.%1`: unknown Sandbox0 Managed Agents session key; "
                                                    "Vivarium understands %2")
                                         .arg(it.key(), QLatin1String(kSandbox0Key)));
    }
    std::optional<qint64> out;
    for (const char *key : {kKey, kSandbox0Key}) {
        if (!metadata.contains(QLatin1String(key)))
            continue;
        auto n = parse(metadata, key);
        if (!n)
            return n.error();
        if (out && *out != *n)
            return ApiError::invalid(QStringLiteral("`metadata.%1`: %2 and %1 both set the hard TTL and disagree "
                                                    "(%3 vs %4); give one")
                                         .arg(QLatin1String(kSandbox0Key), QLatin1String(kKey))
                                         .arg(*out)
                                         .arg(*n));
        out = *n;
    }
    return out;
}

qint64 secondsOf(const QJsonObject &metadata)
{
    auto r = fromMetadata(metadata);
    if (!r)
        return kDefaultSeconds;
    return r->value_or(kDefaultSeconds);
}

} // namespace viv::hardttl
