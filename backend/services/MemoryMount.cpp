#include "MemoryMount.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <algorithm>

namespace viv::memorymount {

QString mountName(const QString &storeName, const QStringList &taken)
{
    QString out;
    bool dash = false;
    for (const QChar c : storeName) {
        const bool keep = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9')
                          || c == u'.' || c == u'_' || c == u'-';
        if (keep) {
            out.append(c);
            dash = false;
        } else if (!dash) {
            out.append(u'-');
            dash = true;
        }
    }
    auto trim = [](QString &s) {
        while (!s.isEmpty() && (s.front() == u'-' || s.front() == u'.'))
            s.remove(0, 1);
        while (!s.isEmpty() && (s.back() == u'-' || s.back() == u'.'))
            s.chop(1);
    };
    trim(out);
    if (out.size() > kMaxNameChars) {
        out.truncate(kMaxNameChars);
        trim(out);
    }
    if (out.isEmpty())
        out = QStringLiteral("memory");
    if (!taken.contains(out))
        return out;
    for (int n = 2;; ++n) {
        const QString suffix = u'-' + QString::number(n);
        QString candidate = out.left(kMaxNameChars - suffix.size()) + suffix;
        if (!taken.contains(candidate))
            return candidate;
    }
}

Listing parseListing(const QByteArray &nulSeparated)
{
    Listing out;
    const QList<QByteArray> items = nulSeparated.split('\0');
    for (const QByteArray &item : items) {
        if (item.isEmpty())
            continue;
        if (item.startsWith('!')) {
            const qsizetype space = item.indexOf(' ');
            if (space > 1 && space + 1 < item.size())
                out.oversized.append(u'/' + QString::fromUtf8(item.mid(space + 1)));
            continue;
        }
        // "<64 hex>  <path>"
        if (item.size() < 67 || item.at(64) != ' ' || item.at(65) != ' ')
            continue;
        const QByteArray hash = item.left(64);
        if (!std::all_of(hash.begin(), hash.end(),
                         [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
            continue;
        out.files.insert(u'/' + QString::fromUtf8(item.mid(66)), QString::fromLatin1(hash));
    }
    return out;
}

QString saveBaseline(const QString &file, const Baseline &baseline)
{
    QJsonObject o;
    for (auto it = baseline.cbegin(); it != baseline.cend(); ++it)
        o.insert(it.key(), it.value());
    QSaveFile f(file);
    if (!f.open(QIODevice::WriteOnly))
        return f.errorString();
    f.write(QJsonDocument(o).toJson(QJsonDocument::Compact));
    if (!f.commit())
        return f.errorString();
    return {};
}

QString loadBaseline(const QString &file, Baseline *out)
{
    out->clear();
    QFile f(file);
    if (!f.exists())
        return {};
    if (!f.open(QIODevice::ReadOnly))
        return f.errorString();
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        return QStringLiteral("%1 is not a memory baseline (a JSON object)").arg(file);
    const QJsonObject o = doc.object();
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (!it.value().isString())
            return QStringLiteral("%1: the entry for %2 is not a hash").arg(file, it.key());
        out->insert(it.key(), it.value().toString());
    }
    return {};
}

Diff diff(const Baseline &baseline, const Listing &now)
{
    Diff d;
    for (auto it = now.files.cbegin(); it != now.files.cend(); ++it) {
        if (baseline.value(it.key()) != it.value())
            d.write.append(it.key());
    }
    for (auto it = baseline.cbegin(); it != baseline.cend(); ++it) {
        if (!now.files.contains(it.key()) && !now.oversized.contains(it.key()))
            d.remove.append(it.key());
    }
    d.write.sort();
    d.remove.sort();
    return d;
}

} // namespace viv::memorymount
