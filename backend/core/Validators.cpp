#include "Validators.h"

#include "JsonFields.h"

#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>

namespace viv::validate {

namespace {

QString at(const QString &path, const QString &message)
{
    return QStringLiteral("`%1`: %2").arg(path, message);
}


// Dot-joined DNS labels (each 1–63 letters, digits or inner hyphens).
bool isLabels(QStringView s)
{
    static const QRegularExpression re(QStringLiteral(
        R"(^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\z)"));
    return re.match(s.toString()).hasMatch();
}

// "1".."65535", one to five digits.
bool isPort(QStringView s)
{
    if (s.isEmpty() || s.size() > 5)
        return false;
    for (QChar c : s) {
        if (c < u'0' || c > u'9')
            return false;
    }
    const int port = s.toInt();
    return port >= 1 && port <= 65535;
}

} // namespace

bool isHttpUrl(const QUrl &url, Schemes schemes)
{
    const QString scheme = url.scheme().toLower();
    return url.isValid() && !url.host().isEmpty()
           && (scheme == u"https" || (schemes == Schemes::HttpOrHttps && scheme == u"http"));
}

bool isHttpUrl(const QString &url, Schemes schemes)
{
    return !url.isEmpty() && isHttpUrl(QUrl(url, QUrl::StrictMode), schemes);
}

UrlProblem httpUrlProblem(const QString &url, bool allowUserInfo)
{
    const QUrl parsed(url, QUrl::StrictMode);
    if (!parsed.isValid() || parsed.isRelative() || parsed.host().isEmpty())
        return UrlProblem::NotAbsolute;
    if (!isHttpUrl(parsed))
        return UrlProblem::Scheme;
    if (!allowUserInfo && !parsed.userInfo().isEmpty())
        return UrlProblem::UserInfo;
    return UrlProblem::None;
}

bool isHostName(const QString &host, unsigned rules)
{
    if (host.isEmpty() || host.size() > 253)
        return false;
    QStringView rest(host);
    if ((rules & BracketedIpv6) && rest.startsWith(u'[')) {
        static const QRegularExpression v6(QStringLiteral(R"(^\[[0-9A-Fa-f:.]+\](:(?<port>[^:]*))?\z)"));
        const QRegularExpressionMatch m = v6.match(host);
        if (!m.hasMatch())
            return false;
        const QString port = m.captured(QStringLiteral("port"));
        return m.capturedStart(QStringLiteral("port")) < 0 || ((rules & Port) && isPort(port));
    }
    if (rules & Port) {
        if (const qsizetype colon = rest.lastIndexOf(u':'); colon >= 0) {
            if (!isPort(rest.mid(colon + 1)))
                return false;
            rest = rest.left(colon);
        }
    }
    if ((rules & Wildcard) && rest.startsWith(u"*."))
        rest = rest.mid(2);
    return isLabels(rest);
}

bool isHostWithPath(const QString &s)
{
    const qsizetype slash = s.indexOf(u'/');
    if (slash < 0)
        return isHostName(s);
    static const QRegularExpression pathRe(QStringLiteral(R"(^/[^\s?#]*\z)"));
    return s.size() <= 2048 && isHostName(s.left(slash)) && pathRe.match(s.mid(slash)).hasMatch();
}

bool isMountPath(const QString &p)
{
    if (!p.startsWith(u'/') || p.size() > kMaxMountPath)
        return false;
    for (QChar c : p) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            return false;
    }
    for (QStringView seg : QStringView(p).split(u'/')) {
        if (seg == u".." || seg == u".")
            return false;
    }
    return true;
}

namespace {

QString memorySegmentsProblem(QStringView path, bool allowEmptyTail)
{
    const QList<QStringView> segments = path.mid(1).split(u'/');
    if (segments.size() > kMaxMemoryPathSegments && !(allowEmptyTail && segments.size() == kMaxMemoryPathSegments + 1))
        return QStringLiteral("has %1 segments; at most %2 are allowed")
            .arg(segments.size() - (allowEmptyTail ? 1 : 0))
            .arg(kMaxMemoryPathSegments);
    for (qsizetype i = 0; i < segments.size(); ++i) {
        const QStringView seg = segments.at(i);
        if (seg.isEmpty() && !(allowEmptyTail && i == segments.size() - 1))
            return QStringLiteral("has an empty segment (`//` or a trailing `/`)");
        if (seg == u"." || seg == u"..")
            return QStringLiteral("has a `%1` segment").arg(seg.toString());
    }
    return {};
}

QString memoryCharactersProblem(const QString &path)
{
    if (path.toUtf8().size() > kMaxMemoryPathBytes)
        return QStringLiteral("is %1 bytes of UTF-8; at most %2 are allowed")
            .arg(path.toUtf8().size())
            .arg(kMaxMemoryPathBytes);
    for (qsizetype i = 0; i < path.size(); ++i) {
        const char32_t c = path.at(i).isHighSurrogate() && i + 1 < path.size()
                               ? QChar::surrogateToUcs4(path.at(i), path.at(i + 1))
                               : char32_t(path.at(i).unicode());
        const QChar::Category cat = QChar::category(c);
        if (cat == QChar::Other_Control || cat == QChar::Other_Format || c == 0x2028 || c == 0x2029)
            return QStringLiteral("contains a control or format character (U+%1 at offset %2)")
                .arg(QString::number(quint32(c), 16).toUpper().rightJustified(4, u'0'))
                .arg(i);
        if (c > 0xffff)
            ++i;
    }
    if (path.normalized(QString::NormalizationForm_C) != path)
        return QStringLiteral("is not in Unicode Normalization Form C");
    return {};
}

} // namespace

QString memoryPathProblem(const QString &path)
{
    if (!path.startsWith(u'/'))
        return QStringLiteral("must start with `/`");
    if (QString p = memoryCharactersProblem(path); !p.isEmpty())
        return p;
    return memorySegmentsProblem(path, false);
}

QString memoryPathPrefixProblem(const QString &prefix)
{
    if (!prefix.startsWith(u'/') || !prefix.endsWith(u'/'))
        return QStringLiteral("must start and end with `/` (such as `/notes/`)");
    if (prefix == u"/")
        return {};
    if (QString p = memoryCharactersProblem(prefix); !p.isEmpty())
        return p;
    return memorySegmentsProblem(prefix, true);
}

Result<QJsonArray> skills(const QJsonValue &v, const QString &path)
{
    QJsonArray out;
    if (v.isNull() || v.isUndefined())
        return out;
    if (!v.isArray())
        return ApiError::invalid(at(path, QStringLiteral("expected an array, got %1").arg(jsonTypeName(v))));
    const QJsonArray in = v.toArray();
    if (in.size() > kMaxSkills)
        return ApiError::invalid(at(path, QStringLiteral("at most %1 skills are allowed, got %2")
                                              .arg(kMaxSkills)
                                              .arg(in.size())));
    QSet<QString> seen;
    for (qsizetype i = 0; i < in.size(); ++i) {
        const QString itemPath = QStringLiteral("%1[%2]").arg(path).arg(i);
        if (!in.at(i).isObject())
            return ApiError::invalid(
                at(itemPath, QStringLiteral("expected an object, got %1").arg(jsonTypeName(in.at(i)))));
        JsonFields f(in.at(i).toObject(), itemPath);
        f.allowOnly({u"type", u"skill_id", u"version"});
        const auto type = f.oneOf(u"type", {QStringLiteral("anthropic"), QStringLiteral("custom")},
                                  JsonFields::Required);
        const auto skillId = f.string(u"skill_id", JsonFields::Required, 256, false);
        const auto version = f.string(u"version", JsonFields::Optional, 64, false);
        if (!f.ok())
            return f.error();
        // Anthropic skills are named ("xlsx"), custom ones carry a Skills API id: the pair is the key.
        const QString key = *type + u':' + *skillId;
        if (seen.contains(key))
            return ApiError::invalid(
                at(f.pathOf(u"skill_id"), QStringLiteral("skill \"%1\" is listed twice").arg(*skillId)));
        seen.insert(key);
        out.append(QJsonObject{{QStringLiteral("type"), *type},
                               {QStringLiteral("skill_id"), *skillId},
                               {QStringLiteral("version"), version.value_or(QStringLiteral("latest"))}});
    }
    return out;
}

} // namespace viv::validate
